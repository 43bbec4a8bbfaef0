"""What a request knows: the engine, who is acting, and the helpers every template uses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, abort, current_app, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflow import process, text
from workflow.access import Actor
from workflow.engine import Engine

VIETNAM_OFFSET = timedelta(hours=7)  # history timestamps are stored in UTC
LOCALES = ("vi", "en")
ROLE_LABELS = {
    "secretary": _l("Cell secretary"),
    "sponsor": _l("Sponsor / helper"),
    "officer": _l("Committee officer"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
}


def engine() -> Engine:
    return current_app.extensions["ketnap.engine"]  # type: ignore[no-any-return]


def actor() -> Actor:
    """The Actor of the logged-in user (401 when nobody is logged in)."""
    if not current_user.is_authenticated:
        abort(401)
    with engine().session() as session:
        return Actor.of(session, current_user.record)


def locale() -> str:
    try:
        return str(get_locale() or "vi")
    except (RuntimeError, KeyError):
        return "vi"


def select_locale() -> str:
    """Babel's choice: Vietnamese unless the user chose English (session first, then
    their profile)."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    if current_user and current_user.is_authenticated:
        stored = getattr(current_user.record, "locale", None)
        if stored in LOCALES:
            return str(stored)
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi"))


def label(thing: Any) -> str:
    """A process-table object's label in the user's language."""
    if thing is None:
        return ""
    return str(thing.label_en if locale() == "en" else thing.label_vi)


def state_label(name: str | None) -> str:
    if not name:
        return "—"
    try:
        return label(process.state(name))
    except KeyError:
        return name


def event_label(name: str) -> str:
    spec = process.event(name)
    return label(spec) if spec else name


def deadline_label(deadline_id: str) -> str:
    try:
        return label(process.deadline(deadline_id))
    except KeyError:
        return deadline_id


def dmy(value: date | datetime | None) -> str:
    """Dates as dd/mm/yyyy; moments (stored UTC) as Vietnam's local dd/mm/yyyy HH:MM."""
    if isinstance(value, datetime):
        return (value + VIETNAM_OFFSET).strftime("%d/%m/%Y %H:%M")
    return text.dmy(value)


def today() -> date:
    return engine().clock.today()


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def has_endpoint(name: str) -> bool:
    """True when a blueprint (maybe another helper's) provides this endpoint."""
    return name in current_app.view_functions


def _template_helpers() -> dict[str, Any]:
    return {
        "current_app": current_app,
        "label": label,
        "state_label": state_label,
        "event_label": event_label,
        "deadline_label": deadline_label,
        "dmy": dmy,
        "today": today,
        "has_endpoint": has_endpoint,
        "role_label": role_label,
        "current_locale": locale,
    }


def init_app(app: Flask) -> None:
    app.context_processor(_template_helpers)
    app.add_template_filter(dmy, "dmy")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(event_label, "event_label")
    app.add_template_filter(deadline_label, "deadline_label")
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(lambda a, b: list(zip(a, b, strict=False)), "zip")
