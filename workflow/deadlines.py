"""A case's live deadlines, computed from its dates and the process table.

Each deadline is counted by the rule parameters in force on the date it counts from
(its anchor): a decision deadline anchored on a cell resolution of 2025 keeps the
2025 length after a later text changes it, so open cases keep their history."""

from __future__ import annotations

import json
from datetime import date, timedelta

from workflow import process, rules
from workflow.config import RuleParameters
from workflow.models import Case
from workflow.rules import RuleSource, in_force


def due_date(
    spec: process.Deadline, anchor: date, params: RuleParameters, extension: int = 0
) -> date:
    length = spec.length(params)
    if spec.unit == "months":
        return rules.add_months(anchor, length)
    if spec.unit == "days":
        return anchor + timedelta(days=length)
    return rules.add_working_days(anchor, length + extension)


def live_deadlines(case: Case, params: RuleSource) -> dict[str, date]:
    """{deadline id: due date} for every deadline live in the case's state, each by the
    set of `params` in force on its anchor."""
    if not case.open:
        return {}
    extensions = json.loads(case.extensions or "{}")
    result: dict[str, date] = {}
    for spec in process.DEADLINES:
        if case.state not in spec.states:
            continue
        anchor = getattr(case, spec.anchor)
        if anchor is None:
            continue
        if spec.met_by and all(getattr(case, name) is not None for name in spec.met_by):
            continue
        in_effect = in_force(params, anchor)
        result[spec.id] = due_date(spec, anchor, in_effect, extensions.get(spec.id, 0))
    return result


def stage_of(deadline_id: str, due: date, today: date, params: RuleSource) -> str:
    """Where a deadline stands on `today` — one of process.REMINDER_STAGES.

    `upcoming` before the due day, `due` on it, `overdue` after it, and `escalated`
    once `escalate_after_days` more days have passed (PROCESS.md: the organisation
    above is then told, after the number of days of the set in force on `today`). The
    one place this is computed, for API, pages and reminders.
    """
    del deadline_id  # every deadline escalates alike today; the id keeps callers future-proof
    if today < due:
        return "upcoming"
    if today == due:
        return "due"
    if today <= due + timedelta(days=in_force(params, today).escalate_after_days):
        return "overdue"
    return "escalated"
