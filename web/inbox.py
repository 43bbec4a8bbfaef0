"""The reminders inbox page /inbox — notifications about tasks, each leading to the
step's form (the task list /tasks is what to do; nothing is "marked done" but by
recording the step) — and the flags the case page shows (`inbox/_case_reminders.html`).
What a reminder says, and who gets it, is decided in workflow.reminders; this only
translates HTTP. The JSON twin is web/api/inbox.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlmodel import select

from web.context import actor, engine
from workflow import waiting
from workflow.deadlines import stage_of
from workflow.models import Case, CaseDeadline
from workflow.reminders.inbox import CaseReminder, InboxEntry, case_reminders, inbox, open_count

bp = Blueprint("inbox", __name__)
SHOWN = ("open", "done", "closed", "all")  # `done`: items marked done before issue 10
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


def step_url(case_id: int, deadline: str) -> str:
    """The form of the step a reminder of `deadline` asks of the user (the case page,
    which opens the user's next step, when their role records none of it)."""
    step = waiting.step_for(deadline, str(current_user.role))
    if step is None:
        return url_for("cases.show", case_id=case_id)
    return url_for("cases.show", case_id=case_id, step=step) + f"#event-{step}"


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
        step_url=step_url,
        badges=BADGES,
    )


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
