"""Where a deadline stands for reminding on a day: `upcoming` inside a warn window,
`due` on the day, `overdue` after it, `escalated` once `escalate_after_days` more days
passed — and, for `upcoming`, which warning it answers (certificate: 90 then 30 days
before; probation_papers: 60 then 30; the others `upcoming_warn_days`, 10).

Computed twice on purpose: in Python (`reminder_stage`) and as the SQL CASE expressions
of the sweep query (`stage_expr`, `warn_expr`), so the query can pick the deadlines to
remind without loading them. A test checks the twins agree day by day.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case
from sqlmodel import col

from workflow import process
from workflow.config import RuleParameters
from workflow.deadlines import stage_of
from workflow.models import CaseDeadline


def warn_offsets(spec: process.Deadline, params: RuleParameters) -> tuple[int, ...]:
    """The days before `due` at which `upcoming` reminders go out, nearest first."""
    return tuple(sorted({int(w) for w in spec.warn_days(params) if int(w) > 0}))


def reminder_stage(
    spec: process.Deadline, due: date, today: date, params: RuleParameters
) -> tuple[str, int] | None:
    """(stage, warn) a deadline is at on `today` for reminding; None outside any window.

    The Python twin of the sweep query's CASE expressions (a test checks they agree).
    """
    stage = stage_of(spec.id, due, today, params)
    if stage != "upcoming":
        return stage, 0
    for warn in warn_offsets(spec, params):
        if due <= today + timedelta(days=warn):
            return "upcoming", warn
    return None


def stage_expr(today: date, params: RuleParameters) -> ColumnElement[str]:
    due = col(CaseDeadline.due)
    # stage_of: escalated when today > due + escalate_after_days
    return case(
        (due < today - timedelta(days=params.escalate_after_days), "escalated"),
        (due < today, "overdue"),
        (due == today, "due"),
        else_="upcoming",
    )


def warn_expr(today: date, params: RuleParameters) -> ColumnElement[int]:
    due, kind = col(CaseDeadline.due), col(CaseDeadline.deadline)
    whens: list[tuple[ColumnElement[bool], int]] = [(due <= today, 0)]
    for spec in process.DEADLINES:
        for warn in warn_offsets(spec, params):  # nearest first: the first match wins
            whens.append((and_(kind == spec.id, due <= today + timedelta(days=warn)), warn))
    return case(*whens, else_=0)


def entry_shifts(spec: process.Deadline, params: RuleParameters) -> list[int]:
    """Days from `due` to the first day of each stage: −w for each warning, 0 (due),
    +1 (overdue), escalate_after_days + 1 (escalated, as deadlines.stage_of says)."""
    return [-w for w in warn_offsets(spec, params)] + [0, 1, params.escalate_after_days + 1]
