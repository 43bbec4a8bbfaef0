"""A deadline's stage on a given day (workflow.deadlines.stage_of), as the API reports it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from workflow.config import RuleParameters
from workflow.deadlines import stage_of

DUE = date(2026, 3, 16)
PARAMS = RuleParameters(escalate_after_days=7)


@pytest.mark.parametrize(
    ("days_after_due", "stage"),
    [
        (-30, "upcoming"),
        (-1, "upcoming"),
        (0, "due"),
        (1, "overdue"),
        (7, "overdue"),
        (8, "escalated"),
        (400, "escalated"),
    ],
)
def test_a_deadline_is_escalated_only_after_escalate_after_days_overdue(
    days_after_due: int, stage: str
) -> None:
    today = DUE + timedelta(days=days_after_due)
    assert stage_of("decision", DUE, today, PARAMS) == stage
