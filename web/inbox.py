"""The reminders inbox: /inbox for people, /api/v1/inbox for API callers, and the flags
the case page shows (`inbox/_case_reminders.html`). What a reminder says, and who gets
it, is decided in workflow.reminders; this only translates HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import select

from web.api.openapi import api_doc, ref, register_schema
from web.context import actor, engine, locale
from workflow.deadlines import stage_of
from workflow.models import Case, CaseDeadline
from workflow.reminders import inbox as reminder_inbox
from workflow.schema import InvalidData

bp = Blueprint("inbox", __name__)
SHOWN = ("open", "done", "closed", "all")
BADGES = {
    "upcoming": "badge-soon",
    "due": "badge-soon",
    "overdue": "badge-overdue",
    "escalated": "badge-overdue",
}


def _user_id() -> int:
    return int(current_user.record.id)


def _shown(raw: str | None) -> str:
    shown = raw or "open"
    if shown not in SHOWN:
        raise InvalidData(
            "status",
            f"Trạng thái phải là một trong: {', '.join(SHOWN)}",
            f"status must be one of: {', '.join(SHOWN)}",
        )
    return shown


def _entries(shown: str) -> tuple[list[reminder_inbox.InboxEntry], int]:
    who = actor()
    with engine().session() as session:
        entries = reminder_inbox.inbox(
            session, _user_id(), who, status=None if shown == "all" else shown, limit=500
        )
        still_open = reminder_inbox.open_count(session, _user_id(), who)
    return entries, still_open


# ── pages ─────────────────────────────────────────────────────────────────
@bp.get("/inbox")
@login_required
def index() -> ResponseReturnValue:
    shown = request.args.get("show", "open")
    if shown not in SHOWN:
        shown = "open"
    entries, still_open = _entries(shown)
    return render_template(
        "inbox/index.html",
        entries=entries,
        shown=shown,
        still_open=still_open,
        marked=request.args.get("done", type=int),
        badges=BADGES,
    )


@bp.post("/inbox/<int:item_id>/done")
@login_required
def done(item_id: int) -> ResponseReturnValue:
    """Mark one's own item done (the form carries the CSRF token, checked app-wide)."""
    _mark_done(item_id)
    return redirect(url_for("inbox.index", done=item_id))


def _mark_done(item_id: int) -> None:
    if not reminder_inbox.mark_done(engine(), item_id, acting_user=current_user.record):
        abort(404)  # not theirs, or no such item: the same answer


# ── API ───────────────────────────────────────────────────────────────────
def _entry_json(entry: reminder_inbox.InboxEntry, today: date, lang: str) -> dict[str, Any]:
    view = entry.view
    return {
        "id": entry.item_id,
        "status": entry.status,
        "closed_reason": entry.closed_reason,
        "case_id": view.case_id,
        "case_url": url_for("cases.show", case_id=view.case_id, _external=True),
        "person": view.person,
        "cell": view.cell,
        "deadline": view.deadline,
        "deadline_label": view.spec.label_en if lang == "en" else view.spec.label_vi,
        "stage": view.stage,
        "stage_label": view.stage_label(lang),
        "warn_days": view.warn,
        "cause": view.cause,
        "due": view.due.isoformat(),
        "what": view.what(lang),
        "when": view.when(today, lang),
        "source": view.spec.source,
        "created_at": entry.created_at.isoformat() + "Z",
        "done_at": entry.done_at.isoformat() + "Z" if entry.done_at else None,
    }


_TEXT = {"type": "string"}
register_schema(
    "InboxItem",
    {
        "type": "object",
        "description": "A reminder in the caller's inbox; texts in the caller's language.",
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": ["open", "done", "closed"]},
            "closed_reason": {"enum": ["met", "moved", "superseded", None]},
            "case_id": {"type": "integer"},
            "case_url": {"type": "string", "format": "uri"},
            "person": _TEXT,
            "cell": _TEXT,
            "deadline": {"type": "string", "description": "a deadline id of the process"},
            "deadline_label": _TEXT,
            "stage": {"enum": ["upcoming", "due", "overdue", "escalated"]},
            "stage_label": _TEXT,
            "warn_days": {"type": "integer", "description": "days before `due` (upcoming)"},
            "cause": {"enum": ["deadline", "failed_votes"]},
            "due": {"type": "string", "format": "date"},
            "what": {"type": "string", "description": "what to do"},
            "when": {"type": "string", "description": "the due date and the days left"},
            "source": {"type": "string", "description": "the rule's text"},
            "created_at": {"type": "string", "format": "date-time"},
            "done_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
)
register_schema(
    "Inbox",
    {
        "type": "object",
        "properties": {
            "open": {"type": "integer", "description": "open items in all"},
            "items": {"type": "array", "items": ref("InboxItem")},
        },
    },
)


@bp.get("/api/v1/inbox")
@api_doc(
    "The caller's reminders (the inbox), most urgent first",
    description="Reminders of deadlines the caller must act on or was told of "
    "(upcoming, due, overdue, escalated). `status` chooses open (default), done, closed "
    "(the deadline was met or moved, or a newer reminder replaced it) or all.",
    query={"status": {"enum": list(SHOWN), "default": "open"}},
    response=ref("Inbox"),
    tag="inbox",
)
@login_required
def api_index() -> ResponseReturnValue:
    """The caller's reminders as JSON (`?status=open|done|closed|all`, default open)."""
    shown = _shown(request.args.get("status"))
    entries, still_open = _entries(shown)
    today, lang = engine().clock.today(), locale()
    return jsonify({"open": still_open, "items": [_entry_json(e, today, lang) for e in entries]})


@bp.post("/api/v1/inbox/<int:item_id>/done")
@api_doc(
    "Mark one of the caller's reminders done",
    description="Only the caller's own items (404 otherwise). Send a bearer token, or a "
    "JSON body (`{}`) with the session cookie. An unsent digest mail of it is cancelled.",
    response={
        "type": "object",
        "properties": {"id": {"type": "integer"}, "status": {"const": "done"}},
    },
    tag="inbox",
)
@login_required
def api_done(item_id: int) -> ResponseReturnValue:
    """Mark an item done. Exempt from the form CSRF token like the rest of the API, so
    it takes a bearer token or a JSON body — neither of which a cross-site form sends."""
    bearer = request.headers.get("Authorization", "").startswith("Bearer ")
    if not bearer and not request.is_json:
        raise InvalidData(
            "body",
            "Gửi yêu cầu dạng JSON (Content-Type: application/json) hoặc kèm mã Bearer",
            "Send a JSON request (Content-Type: application/json) or a bearer token",
        )
    _mark_done(item_id)
    return jsonify({"id": item_id, "status": "done"})


@bp.record_once
def _exempt_api_from_csrf(state: BlueprintSetupState) -> None:
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(f"{__name__}.api_done")


# ── what every template may ask ───────────────────────────────────────────
@dataclass(frozen=True)
class DeadlineFlag:
    deadline: str
    due: date
    stage: str  # where it stands today (deadlines.stage_of)

    @property
    def badge(self) -> str:
        return BADGES.get(self.stage, "badge-soon")


@dataclass(frozen=True)
class CaseFlags:
    deadlines: list[DeadlineFlag]
    reminders: list[reminder_inbox.CaseReminder]
    escalated: bool
    failed_votes: int

    @property
    def late(self) -> bool:
        return self.escalated or any(d.stage in ("overdue", "escalated") for d in self.deadlines)


@bp.app_template_global()
def case_flags(case: Case) -> CaseFlags:
    """The case's live deadlines with where each stands today, and its open reminders."""
    today, params = engine().clock.today(), engine().params
    with engine().session() as session:
        rows = list(session.exec(select(CaseDeadline).where(CaseDeadline.case_id == case.id)))
        reminders = reminder_inbox.case_reminders(session, int(case.id or 0))
    flags = [
        DeadlineFlag(row.deadline, row.due, stage_of(row.deadline, row.due, today, params))
        for row in sorted(rows, key=lambda r: r.due)
    ]
    return CaseFlags(flags, reminders, bool(case.escalated), case.failed_confirm_votes)


@bp.app_template_global()
def inbox_count() -> int:
    """The logged-in user's open reminders (0 for nobody): for a badge in the menu."""
    if not current_user.is_authenticated:
        return 0
    with engine().session() as session:
        return reminder_inbox.open_count(session, _user_id(), actor())
