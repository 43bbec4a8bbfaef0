"""The stored live deadlines of open cases, soonest first, with where each stands today
(`ketnap deadlines`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from workflow.config import RuleParameters
from workflow.deadlines import stage_of
from workflow.models import Case, CaseDeadline, Person


@dataclass(frozen=True)
class LiveDeadline:
    case_id: int
    person: str
    state: str
    deadline: str
    due: date
    stage: str  # stage_of's, whatever the warn windows
    escalated: bool  # the case was escalated after failed confirmation votes


def stored_deadlines(
    session: Session,
    today: date,
    params: RuleParameters,
    *,
    overdue_only: bool = False,
    case_id: int | None = None,
    limit: int | None = None,
) -> list[LiveDeadline]:
    """The stored live deadlines, soonest first, with where each stands today."""
    query = (
        select(CaseDeadline, Case.state, Case.escalated, Person.full_name)
        .join(Case, col(Case.id) == col(CaseDeadline.case_id))
        .join(Person, col(Person.id) == col(Case.person_id))
        .order_by(col(CaseDeadline.due), col(CaseDeadline.case_id))
    )
    if overdue_only:
        query = query.where(col(CaseDeadline.due) < today)
    if case_id is not None:
        query = query.where(col(CaseDeadline.case_id) == case_id)
    if limit is not None:
        query = query.limit(limit)
    return [
        LiveDeadline(
            row.case_id,
            name,
            state,
            row.deadline,
            row.due,
            stage_of(row.deadline, row.due, today, params),
            bool(escalated),
        )
        for row, state, escalated, name in session.execute(query)
    ]
