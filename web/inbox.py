"""The reminders inbox page /inbox, and the flags the case page shows
(`inbox/_case_reminders.html`). What a reminder says, and who gets it, is decided in
workflow.reminders; this only translates HTTP. The JSON twin is web/api/inbox.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import select

from web.context import actor, engine
from workflow import hygiene
from workflow.deadlines import stage_of
from workflow.models import Case, CaseDeadline
from workflow.reminders.inbox import CaseReminder, InboxEntry, case_reminders, inbox, open_count
from workflow.reminders.inbox import mark_done as mark_item_done

bp = Blueprint("inbox", __name__)
SHOWN = ("open", "done", "closed", "all")
BADGES = {
    "upcoming": "badge-soon",
    "due": "badge-soon",
    "overdue": "badge-overdue",
    "escalated": "badge-overdue",
}


def user_id() -> int:
    return int(current_user.record.id)


def entries(shown: str) -> tuple[list[InboxEntry], int]:
    """The logged-in user's items with status `shown` (or all), and how many are open."""
    who = actor()
    with engine().session() as session:
        found = inbox(session, user_id(), who, status=None if shown == "all" else shown, limit=500)
        still_open = open_count(session, user_id(), who)
    return found, still_open


def mark_done(item_id: int) -> None:
    """Mark the logged-in user's item done; 404 when it is not theirs or does not exist
    (the same answer, so existence does not leak)."""
    if not mark_item_done(engine(), item_id, acting_user=current_user.record):
        abort(404)


# ── pages ─────────────────────────────────────────────────────────────────
@bp.get("/inbox")
@login_required
def index() -> ResponseReturnValue:
    shown = request.args.get("show", "open")
    if shown not in SHOWN:
        shown = "open"
    found, still_open = entries(shown)
    return render_template(
        "inbox/index.html",
        entries=found,
        shown=shown,
        still_open=still_open,
        marked=hygiene.whole_number(request.args.get("done") or ""),
        badges=BADGES,
    )


@bp.post("/inbox/<int:item_id>/done")
@login_required
def done(item_id: int) -> ResponseReturnValue:
    """Mark one's own item done (the form carries the CSRF token, checked app-wide)."""
    mark_done(item_id)
    return redirect(url_for("inbox.index", done=item_id))


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
    reminders: list[CaseReminder]
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
        reminders = case_reminders(session, int(case.id or 0))
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
        return open_count(session, user_id(), actor())
