"""The case list, asked one way by the /cases page and by GET /api/v1/cases: one filter,
one query, one capped count, one pagination. Every list is scoped by
`access.visible_cases`, and costs the same few queries whatever its length.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, extract, func
from sqlmodel import Session, col, select

from workflow import access, process
from workflow.access import Actor
from workflow.models import Case, CaseDeadline, Organisation, Person
from workflow.queries import search

SOON_DAYS = 30  # "soon due" on the dashboard and in the list's filter
# Counting a province's million cases exactly costs seconds and tells a reader nothing
# a filter would not: past the cap a list says "more than" and its pages stop there.
COUNT_CAP = 10_000
CELL_KINDS = ("cell", "grassroots_cell")
STATE_FILTERS = (*process.STATE_NAMES, "open", "closed")
# overdue: a deadline has passed; soon: the next one is due within SOON_DAYS;
# any: a live deadline; on_time: none has passed (or there is none).
DEADLINE_FILTERS = ("overdue", "soon", "any", "on_time")


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to list; an empty value does not filter."""

    q: str = ""  # part of the candidate's name, or their national ID
    state: str = ""  # one of STATE_FILTERS
    deadline: str = ""  # one of DEADLINE_FILTERS
    year: int | None = None  # the nomination's year
    cell: int | None = None  # the cell's organisation id

    def conditions(self, who: Actor, today: date) -> list[ColumnElement[bool]]:
        """The WHERE clause: the actor's scope, then each filter that is set."""
        where = [access.visible_cases(who)]
        if self.q:
            where.append(search.person_matches(self.q))
        if self.state:
            where.append(_in_state(self.state))
        if self.deadline:
            where.append(_deadline_condition(self.deadline, today))
        if self.year is not None:
            where.append(extract("year", col(Case.nominated_on)) == self.year)
        if self.cell is not None:
            where.append(col(Case.cell_id) == self.cell)
        return where


def _in_state(state: str) -> ColumnElement[bool]:
    if state == "open":
        return col(Case.open).is_(True)
    if state == "closed":
        return col(Case.open).is_(False)
    return col(Case.state) == state


def _deadline_condition(deadline: str, today: date) -> ColumnElement[bool]:
    due = col(Case.next_due)
    if deadline == "overdue":
        return due < today
    if deadline == "soon":
        return and_(due >= today, due <= today + timedelta(SOON_DAYS))
    if deadline == "any":
        return due.is_not(None)
    return due.is_(None) | (due >= today)  # on_time


@dataclass(frozen=True)
class ListedCase:
    """One case of a list: its row, the candidate, the cell's name, its live deadlines."""

    case: Case
    person: Person
    cell: str
    deadlines: list[CaseDeadline]  # soonest first

    @property
    def next_deadline(self) -> str | None:
        """The id of the deadline due on the case's next due date."""
        due = self.case.next_due
        return next((d.deadline for d in self.deadlines if d.due == due), None)


@dataclass(frozen=True)
class CaseListPage:
    items: list[ListedCase]
    page: int
    per_page: int
    counted: int  # matching cases, counted up to COUNT_CAP + 1

    @property
    def total(self) -> int:
        """How many cases match, at most COUNT_CAP."""
        return min(self.counted, COUNT_CAP)

    @property
    def capped(self) -> bool:
        """True when more than `total` cases match."""
        return self.counted > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_page(
    session: Session,
    who: Actor,
    spec: CaseFilter,
    today: date,
    *,
    page: int = 1,
    per_page: int = 25,
    soonest_first: bool = False,
) -> CaseListPage:
    """One page of the cases matching `spec`: newest first, or the soonest due first."""
    where = spec.conditions(who, today)
    order: tuple[Any, ...] = (col(Case.id).desc(),)
    if soonest_first:
        order = (col(Case.next_due).is_(None), col(Case.next_due), col(Case.id))
    query = (
        select(Case, Person, Organisation.name)
        .join(Person, col(Person.id) == Case.person_id)
        .join(Organisation, col(Organisation.id) == Case.cell_id)
        .where(*where)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = session.exec(query).all()
    deadlines = live_deadlines(session, [case.id for case, _p, _c in rows if case.id is not None])
    items = [ListedCase(case, person, cell, deadlines[case.id or 0]) for case, person, cell in rows]
    counted = count_capped(session, where, searching=bool(spec.q))
    return CaseListPage(items, page, per_page, counted)


def count_capped(session: Session, where: list[ColumnElement[bool]], searching: bool) -> int:
    """How many cases match, up to COUNT_CAP + 1 (Person is joined only for a search)."""
    matching = select(col(Case.id)).where(*where)
    if searching:
        matching = matching.join(Person, col(Person.id) == Case.person_id)
    capped = matching.limit(COUNT_CAP + 1).subquery()
    return int(session.exec(select(func.count()).select_from(capped)).one())


def live_deadlines(session: Session, case_ids: list[int]) -> dict[int, list[CaseDeadline]]:
    """Each case's live deadlines, soonest first: one query for any number of cases."""
    found: dict[int, list[CaseDeadline]] = defaultdict(list)
    if case_ids:
        query = (
            select(CaseDeadline)
            .where(col(CaseDeadline.case_id).in_(case_ids))
            .order_by(col(CaseDeadline.due), col(CaseDeadline.deadline))
        )
        for row in session.exec(query):
            found[row.case_id].append(row)
    return found


def cells_in_scope(session: Session, who: Actor) -> list[Organisation]:
    """The cells the actor acts for, by name: the list's cell filter, a nomination's cell."""
    query = select(Organisation).where(col(Organisation.kind).in_(CELL_KINDS))
    if who.role != "admin":
        if not who.org_path:
            return []
        query = query.where(col(Organisation.path).startswith(who.org_path))
    return list(session.exec(query.order_by(col(Organisation.name))))


def nomination_years(session: Session, who: Actor) -> list[int]:
    """The nomination years to filter by, newest first: from the first to the last
    nomination in scope (two index look-ups, not a DISTINCT over every case)."""
    first, last = session.exec(
        select(func.min(Case.nominated_on), func.max(Case.nominated_on)).where(
            access.visible_cases(who)
        )
    ).one()
    if first is None or last is None:
        return []
    return list(range(last.year, first.year - 1, -1))
