"""The dashboard's reads: cases per state, the deadlines to act on first and the most
pressing cases of each state for the people who keep cases; for a sponsor or helper,
what is expected of them for each candidate. A handful of queries for any scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, union, union_all
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from workflow import access, process
from workflow.access import Actor
from workflow.models import (
    Case,
    CaseDeadline,
    CaseTally,
    HelperAssignment,
    Organisation,
    Person,
    Sponsorship,
)
from workflow.queries.case_list import SOON_DAYS

URGENT_SHOWN = 60  # deadlines listed at most
PER_STATE_SHOWN = 6  # cases shown under each state
BEFORE_CELL_VOTE = process.STATE_NAMES[: process.STATE_NAMES.index("cell_resolved")]


@dataclass
class DueDeadline:
    case_id: int
    full_name: str
    state: str
    deadline: str
    due: date
    cell: str


@dataclass
class WaitingCase:
    id: int
    full_name: str
    state: str
    next_due: date | None
    nominated_on: date
    cell: str


@dataclass
class Overview:
    counts: dict[str, int]  # cases per state
    urgent: list[DueDeadline]  # overdue or due within SOON_DAYS, most urgent first
    groups: dict[str, list[WaitingCase]]  # the first open cases of each state
    today: date

    @property
    def open_total(self) -> int:
        return sum(n for state, n in self.counts.items() if state in process.OPEN_STATES)

    @property
    def overdue(self) -> int:
        return sum(1 for row in self.urgent if row.due < self.today)

    @property
    def soon(self) -> int:
        return len(self.urgent) - self.overdue


def overview(session: Session, who: Actor, today: date) -> Overview:
    """What the dashboard of a secretary, officer, auditor or admin shows."""
    counts = _counts(session, who)
    urgent = _urgent(session, who, today, URGENT_SHOWN)
    groups = _first_by_state(session, who, PER_STATE_SHOWN)
    return Overview(counts, urgent, groups, today)


def _counts(session: Session, who: Actor) -> dict[str, int]:
    """Cases per state in the actor's scope: summed from the case tally (cases per cell
    and state, kept by the database's triggers) — a province's few thousand tally rows,
    not its million cases. A sponsor's few cases are counted as they are."""
    if who.role == "sponsor":
        query = select(Case.state, func.count()).where(access.visible_cases(who))
        return dict(session.exec(query.group_by(Case.state)).all())
    total = func.sum(CaseTally.n)
    tallied = select(CaseTally.state, total).group_by(col(CaseTally.state)).having(total > 0)
    if who.role != "admin":
        tallied = tallied.where(col(CaseTally.org_path).startswith(who.org_path or "/none/"))
    return {state: int(n) for state, n in session.exec(tallied).all()}


def _urgent(session: Session, who: Actor, today: date, limit: int) -> list[DueDeadline]:
    """Live deadlines overdue or due within SOON_DAYS, most urgent first (one query).

    A case's earliest deadline is its next_due, so the first `limit` deadlines belong to
    the first `limit` cases by (next_due, id): those are found in the index on
    (next_due, id, org_path) — the scope filtered in the index — and only their
    deadlines are read, instead of every deadline of the province joined to its case."""
    horizon = today + timedelta(days=SOON_DAYS)
    first_cases = (
        sql_select(col(Case.id))
        .where(access.visible_cases(who), col(Case.next_due) <= horizon)
        .order_by(col(Case.next_due), col(Case.id))
        .limit(limit)
    )
    query = (
        select(CaseDeadline, Case.state, Person.full_name, Organisation.name)
        .join(Case, col(Case.id) == CaseDeadline.case_id)
        .join(Person, col(Person.id) == Case.person_id)
        .join(Organisation, col(Organisation.id) == Case.cell_id)
        .where(col(CaseDeadline.case_id).in_(first_cases), CaseDeadline.due <= horizon)
        .order_by(col(CaseDeadline.due), col(CaseDeadline.case_id))
        .limit(limit)
    )
    return [
        DueDeadline(d.case_id, name, state, d.deadline, d.due, cell)
        for d, state, name, cell in session.exec(query)
    ]


def _first_by_state(session: Session, who: Actor, per_state: int) -> dict[str, list[WaitingCase]]:
    """The most pressing open cases of each state, soonest due first (those without a
    live deadline last): one statement of small ordered probes, two per open state, each
    read from the index on (state, next_due, id) and stopping after `per_state` rows —
    not a numbering of every open case of the scope."""
    scope = access.visible_cases(who)
    probes = []
    for state in process.OPEN_STATES:
        in_state = (col(Case.state) == state, scope)
        due = col(Case.next_due)
        # both in the index's own order (among undated cases next_due is one value), or a
        # planner that expects many undated cases walks the primary key instead
        for dated in (due.is_not(None), due.is_(None)):
            probes.append(_probe(in_state, dated, (due, col(Case.id)), per_state))
    first = union_all(*probes).subquery()
    query: Any = (
        sql_select(
            col(Case.id),
            col(Case.state),
            col(Case.next_due),
            col(Case.nominated_on),
            col(Person.full_name),
            col(Organisation.name).label("cell"),
        )
        .join(first, first.c.id == Case.id)
        .join(Person, col(Person.id) == Case.person_id)
        .join(Organisation, col(Organisation.id) == Case.cell_id)
    )
    rows = sorted(
        session.execute(query).all(),
        key=lambda r: (r.next_due is None, r.next_due or date.min, r.id),
    )
    groups: dict[str, list[WaitingCase]] = {}
    for row in rows:
        shown = groups.setdefault(row.state, [])
        if len(shown) < per_state:
            shown.append(
                WaitingCase(
                    row.id, row.full_name, row.state, row.next_due, row.nominated_on, row.cell
                )
            )
    return groups


def _probe(
    in_state: tuple[ColumnElement[bool], ...],
    due: ColumnElement[bool],
    order: tuple[Any, ...],
    limit: int,
) -> Select[Any]:
    """The ids of the first `limit` cases of one state (and one side of next_due IS
    NULL): only the index's columns, so the scope's path is filtered in the index alone
    (an index-only scan); wrapped so that SQLite accepts its ORDER BY … LIMIT inside a
    UNION ALL."""
    inner = (
        sql_select(col(Case.id).label("id"))
        .where(*in_state, due)
        .order_by(*order)
        .limit(limit)
        .subquery()
    )
    return sql_select(inner)


# ── a sponsor's or helper's candidates ────────────────────────────────────
# What is expected of them (the page words each): a helper writes a comment on the
# probationary member (form 11-KNĐ), then keeps guiding them until probation ends;
# sponsors and helpers follow a candidate until the cell votes; then nothing.
EXPECTATIONS = ("write_comment", "keep_guiding", "follow_candidate", "nothing")


@dataclass
class SponsorTask:
    case_id: int
    full_name: str
    state: str
    role: str  # sponsor | helper
    expectation: str  # one of EXPECTATIONS
    due: date | None
    event: str | None = None  # the event form that records it


def sponsor_tasks(session: Session, who: Actor) -> list[SponsorTask]:
    """What a sponsor/helper is expected to do for each candidate: what asks for an
    action first, then what still needs following, then the rest, soonest first."""
    if who.member_id is None:
        return []
    helped = select(HelperAssignment.case_id).where(HelperAssignment.member_id == who.member_id)
    sponsored = select(Sponsorship.case_id).where(Sponsorship.member_id == who.member_id)
    query = (
        select(Case, Person.full_name)
        .join(Person, col(Person.id) == Case.person_id)
        .where(col(Case.id).in_(union(helped, sponsored)))  # an OR of INs scans every case
        .order_by(col(Case.next_due).is_(None), col(Case.next_due), col(Case.id))
    )
    helped_ids = set(session.exec(helped).all())
    tasks = [_task_for(case, name, case.id in helped_ids) for case, name in session.exec(query)]
    return sorted(tasks, key=lambda t: (t.event is None, t.due is None, t.due or date.max))


def _task_for(case: Case, name: str, helper: bool) -> SponsorTask:
    assert case.id is not None
    role = "helper" if helper else "sponsor"
    if helper and case.state == "probationary":
        if case.helper_comment_on is None:
            return SponsorTask(
                case.id,
                name,
                case.state,
                role,
                "write_comment",
                case.probation_end,
                "record_helper_comment",
            )
        return SponsorTask(case.id, name, case.state, role, "keep_guiding", case.probation_end)
    if case.open and case.state in BEFORE_CELL_VOTE:
        # no deadline of the process table belongs to a sponsor
        return SponsorTask(case.id, name, case.state, role, "follow_candidate", None)
    return SponsorTask(case.id, name, case.state, role, "nothing", None)
