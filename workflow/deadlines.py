"""A case's live deadlines, computed from its dates and the process table."""

from __future__ import annotations

import json
from datetime import date, timedelta

from workflow import process, rules
from workflow.config import RuleParameters
from workflow.models import Case


def due_date(
    spec: process.Deadline, anchor: date, params: RuleParameters, extension: int = 0
) -> date:
    length = spec.length(params)
    if spec.unit == "months":
        return rules.add_months(anchor, length)
    if spec.unit == "days":
        return anchor + timedelta(days=length)
    return rules.add_working_days(anchor, length + extension)


def live_deadlines(case: Case, params: RuleParameters) -> dict[str, date]:
    """{deadline id: due date} for every deadline live in the case's state."""
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
        result[spec.id] = due_date(spec, anchor, params, extensions.get(spec.id, 0))
    return result


def stage_of(deadline_id: str, due: date, today: date, params: RuleParameters) -> str:
    """Where a deadline stands on `today` — one of process.REMINDER_STAGES.

    `upcoming` before the due day, `due` on it, `overdue` after it, and `escalated`
    once `escalate_after_days` more days have passed (PROCESS.md: the organisation
    above is then told). The one place this is computed, for API, pages and reminders.
    """
    del deadline_id  # every deadline escalates alike today; the id keeps callers future-proof
    if today < due:
        return "upcoming"
    if today == due:
        return "due"
    if today <= due + timedelta(days=params.escalate_after_days):
        return "overdue"
    return "escalated"
