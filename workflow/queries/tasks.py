"""One task list per user, derived from the process table and each case's state — never
stored, never from the reminder sweep, so it is always current: for every open case in
the user's scope, the step(s) it waits for (workflow/waiting.py), who must act (the
secretary of its cell, its named helpers, or the officers of the competent committee as
a shared queue with who claimed it), and by when (its live deadline). Overdue first,
then by due date. Recording the step ends the task by itself.

Five queries whatever the number of cases: the open cases, their live deadlines, their
helpers, the organisations named, and the claims.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import ColumnElement, false, func, literal, or_, tuple_, union_all
from sqlmodel import Session, col, select

from workflow import access, process, waiting
from workflow.access import Actor
from workflow.models import (
    Case,
    CaseDeadline,
    HelperAssignment,
    Member,
    Organisation,
    Person,
    TaskClaim,
    User,
)
from workflow.queries import case_list
from workflow.queries.case_list import CELL_KINDS, Counted, Cursor
from workflow.queries.case_page import CasePage
from workflow.text import Text

Scope = list[ColumnElement[bool]]
# The states in which some step is a helper's: their helpers are all the list reads.
HELPER_STATES = tuple(
    sorted({s for e in process.EVENTS if e.acted_by == "helper" for s in e.sources})
)


@dataclass(frozen=True)
class Claim:
    user_id: int
    username: str
    full_name: str


@dataclass(frozen=True)
class Task:
    """One step one open case waits for."""

    case_id: int
    version: int
    person: str
    state: str
    cell_id: int
    cell: str
    event: str
    assignee: str  # one of waiting.ASSIGNEES
    organisation_id: int | None  # the cell, or the committee whose officers must act
    organisation: str
    helpers: tuple[str, ...]  # the named helpers, for a helper's step
    deadline: str | None  # the live deadline that gives `due`
    due: date | None
    mine: bool  # the user is who must act (or one of the queue's officers)
    claim: Claim | None = None

    @property
    def spec(self) -> process.Event:
        found = process.event(self.event)
        assert found is not None
        return found

    @property
    def queue(self) -> bool:
        return self.assignee in waiting.QUEUES

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today

    def days_left(self, today: date) -> int | None:
        return None if self.due is None else (self.due - today).days

    def who(self) -> Text:
        """Who must act, as a page says it."""
        if self.assignee == "cell":
            return Text(f"Bí thư {self.cell}", f"The secretary of {self.cell}")
        if self.assignee == "helper":
            names = ", ".join(self.helpers) or "—"
            return Text(f"Đảng viên giúp đỡ {names}", f"The helper {names}")
        return Text(self.organisation, self.organisation)

    def waiting_line(self) -> Text:
        """ "Chờ Đảng ủy xã Đông Lỗ: Quyết định kết nạp (hạn 12/02/2027)"."""
        who, step = self.who(), self.spec
        due_vi = f" (hạn {self.due:%d/%m/%Y})" if self.due else ""
        due_en = f" (due {self.due:%d/%m/%Y})" if self.due else ""
        return Text(
            f"Chờ {who.vi}: {step.label_vi}{due_vi}",
            f"Waiting for {who.en}: {step.label_en}{due_en}",
        )


@dataclass
class TaskList:
    tasks: list[Task] = field(default_factory=list)  # overdue first, then by due date

    @property
    def mine(self) -> list[Task]:
        return [t for t in self.tasks if t.mine]

    @property
    def others(self) -> list[Task]:
        return [t for t in self.tasks if not t.mine]


def task_list(
    session: Session,
    who: Actor,
    *,
    case_id: int | None = None,
    case_ids: list[int] | None = None,
    mine_only: bool = False,
    most_urgent: int | None = None,
) -> TaskList:
    """Every step the open cases in `who`'s scope wait for (one case: `case_id`; these
    cases: `case_ids`, as `task_page` cuts them).

    `mine_only`: read only the cases in a state where `who` may be the one to act (a
    province's officer does not load every cell's candidates to find the committee's
    few). `most_urgent`: only the cases whose earliest live deadline comes first."""
    scope = _scope(who, mine_only)
    if case_id is not None:
        scope.append(col(Case.id) == case_id)
    if case_ids is not None:
        scope.append(col(Case.id).in_(case_ids))
    if most_urgent is not None:
        first = (
            select(col(Case.id))
            .where(*scope)
            .order_by(col(Case.next_due).is_(None), col(Case.next_due), col(Case.id))
            .limit(most_urgent)
        )
        scope = [col(Case.id).in_(first)]
    cases = list(
        session.exec(
            select(Case, Person.full_name)
            .join(Person, col(Person.id) == Case.person_id)
            .where(*scope)
            .order_by(col(Case.id))
        )
    )
    deadlines = _deadlines(session, scope)
    helpers = _helpers(session, scope)
    orgs = _organisations(session, scope)
    claims = _claims(session, scope)
    may_admit = {org_id: org.may_admit for org_id, org in orgs.items()}
    tasks = []
    for case, person in cases:
        for event in waiting.waited_events(case):
            context = _Context(person, deadlines[case.id or 0], helpers[case.id or 0], orgs)
            task = _task(who, case, event, context, may_admit)
            claim = claims.get((task.case_id, task.event))
            if task.queue and claim is not None and claim[0] == task.organisation_id:
                task = _with_claim(task, claim[1])
            if _shown_to(who, task):
                tasks.append(task)
    order = {e.name: n for n, e in enumerate(process.EVENTS)}
    tasks.sort(key=lambda t: (t.due is None, t.due or date.max, t.case_id, order[t.event]))
    return TaskList(tasks)


def tasks_of_case(session: Session, who: Actor, page: CasePage) -> list[Task]:
    """The steps one open case waits for — `task_list(case_id=…)` from what the case's
    page has read already (its live deadlines, its helpers, its cell and every
    organisation above it): no statement but the claims', and that only when a
    committee's shared step is waited for."""
    case, organisations = page.case, page.organisations
    waited = waiting.waited_events(case)
    if not waited:
        return []
    live = {d.deadline: d.due for d in page.deadlines}
    named = [(int(m.id or 0), m.full_name) for m in page.helpers]
    may_admit = {org_id: org.may_admit for org_id, org in organisations.items()}
    context = _Context(page.person.full_name, live, named, organisations)
    tasks = [_task(who, case, event, context, may_admit) for event in waited]
    if any(t.queue for t in tasks):
        claims = _claims(session, [col(Case.id) == case.id])
        for n, task in enumerate(tasks):
            claim = claims.get((task.case_id, task.event))
            if task.queue and claim is not None and claim[0] == task.organisation_id:
                tasks[n] = _with_claim(task, claim[1])
    order = {e.name: n for n, e in enumerate(process.EVENTS)}
    shown = [t for t in tasks if _shown_to(who, t)]
    shown.sort(key=lambda t: (t.due is None, t.due or date.max, t.case_id, order[t.event]))
    return shown


def _scope(who: Actor, mine_only: bool) -> Scope:
    """The open cases in `who`'s scope (`mine_only`: those where `who` may have to act)."""
    scope = [access.visible_cases(who), col(Case.open).is_(True)]
    if mine_only:
        scope.extend(_could_be_mine(who))
    return scope


# ── a page of tasks ──────────────────────────────────────────────────────
PAGE_CASES = 100  # the cases whose tasks one page lists


@dataclass(frozen=True)
class TaskPage(Counted):
    """The tasks of one page of cases, and where the next page starts (None: the last)."""

    tasks: list[Task]
    next: Cursor | None
    counted: int  # the cases the whole list runs over, counted up to COUNT_CAP + 1


def task_page(
    session: Session,
    who: Actor,
    *,
    mine_only: bool = False,
    after: Cursor | None = None,
    per_page: int = PAGE_CASES,
) -> TaskPage:
    """The tasks of a page of the open cases in `who`'s scope (`mine_only`: of the
    caller's own tasks), the cases taken in the order of their next due date (the
    earliest live deadline), soonest first, then those without one by number — read in
    the order of the index on (next_due, id) and cut by a cursor, so a province's
    thousandth page costs what its first does. Within the page, overdue first, then by
    due date. A page may hold fewer tasks than cases (a case may wait for none of the
    caller's) or more (a case may wait for several steps)."""
    scope = _scope(who, mine_only)
    rows = _case_keys(session, scope, after, per_page + 1)
    more = len(rows) > per_page
    rows = rows[:per_page]
    found = task_list(session, who, case_ids=[i for i, _due in rows])
    tasks = found.mine if mine_only else found.tasks
    last = rows[-1] if rows else None
    counted = case_list.count_capped(session, scope, searching=False)
    return TaskPage(tasks, Cursor(last[0], last[1]) if more and last else None, counted)


def _case_keys(
    session: Session, scope: Scope, after: Cursor | None, limit: int
) -> list[tuple[int, date | None]]:
    """(id, next_due) of the next `limit` cases past `after`: the dated ones by
    (next_due, id), then the undated by id (a cursor without a date is among those).
    One statement: the two runs, each read in its index's order and cut at `limit`."""
    dated: Scope = [*scope, col(Case.next_due).is_not(None)]
    undated: Scope = [*scope, col(Case.next_due).is_(None)]
    if after is not None and after.due is not None:
        dated.append(tuple_(col(Case.next_due), col(Case.id)) > tuple_(after.due, after.id))
    elif after is not None:
        dated.append(false())
        undated.append(col(Case.id) > after.id)
    first = (
        select(col(Case.id), col(Case.next_due), literal(0).label("run"))
        .where(*dated)
        .order_by(col(Case.next_due), col(Case.id))
        .limit(limit)
        .subquery()
    )
    # read only when the dated run did not fill the page (evaluated once: a one-time
    # filter), from the partial index of the open cases without a due date
    short = select(func.count()).select_from(first).scalar_subquery() < limit
    then = (
        select(col(Case.id), col(Case.next_due), literal(1).label("run"))
        .where(*undated, short)
        .order_by(col(Case.id))
        .limit(limit)
        .subquery()
    )
    both = union_all(first.select(), then.select())
    rows = sorted(session.execute(both), key=lambda r: (r[2], r[1] or date.min, r[0]))
    return [(int(case_id), due) for case_id, due, _run in rows[:limit]]


@dataclass(frozen=True)
class _Context:
    person: str
    deadlines: dict[str, date]
    helpers: list[tuple[int, str]]
    orgs: dict[int, Organisation]


def _task(
    who: Actor, case: Case, event: process.Event, ctx: _Context, may_admit: dict[int, bool]
) -> Task:
    assert case.id is not None
    kind = waiting.assignee_kind(event)
    org_id: int | None = case.cell_id
    if kind == "committee":
        org_id = waiting.committee_of(case.org_path)
    elif kind == "authority":
        org_id = waiting.competent_authority_of(case.org_path, may_admit)
    org = ctx.orgs.get(org_id) if org_id is not None else None
    cell = ctx.orgs.get(case.cell_id)
    deadline, due = _due(event, ctx.deadlines)
    return Task(
        case_id=case.id,
        version=case.version,
        person=ctx.person,
        state=case.state,
        cell_id=case.cell_id,
        cell=cell.name if cell else "",
        event=event.name,
        assignee=kind,
        organisation_id=org_id,
        organisation=org.name if org else "",
        helpers=tuple(name for _id, name in ctx.helpers) if kind == "helper" else (),
        deadline=deadline,
        due=due,
        mine=_is_mine(who, kind, case, org_id, ctx.helpers),
    )


# Which kinds of step (waiting.ASSIGNEES) a role may be the one to act on.
ACTS_AS = {"secretary": ("cell",), "sponsor": ("helper",), "officer": ("committee", "authority")}


def states_waiting_on(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The states in which a case may wait for a step of one of these kinds."""
    return tuple(
        s
        for s in process.OPEN_STATES
        if any(e.acted_by in kinds and not e.alternative for e in process.allowed_events(s))
    )


def _could_be_mine(who: Actor) -> Scope:
    """The conditions narrowing the cases to those where `who` may have to act."""
    kinds = ACTS_AS.get(who.role, ())
    if not kinds:
        return [false()]
    narrowed: Scope = [col(Case.state).in_(states_waiting_on(kinds))]
    if who.role == "secretary":
        narrowed.append(col(Case.cell_id) == who.organisation_id)
    return narrowed


def _shown_to(who: Actor, task: Task) -> bool:
    """A sponsor or helper sees their own steps and the case's way forward, never the
    probationary member's own papers (the theory class, the self-review: the secretary
    records them)."""
    return who.role != "sponsor" or task.mine or task.spec.done_when is None


def _due(event: process.Event, deadlines: dict[str, date]) -> tuple[str | None, date | None]:
    """The live deadline the step meets; a step without its own (assigning sponsors,
    the dossier) is due by the case's earliest live deadline (the certificate's
    expiry, after which the cell can no longer vote)."""
    if event.discharges and event.discharges in deadlines:
        return event.discharges, deadlines[event.discharges]
    if event.discharges is None and deadlines:
        first = min(deadlines, key=lambda d: deadlines[d])
        return first, deadlines[first]
    return None, None


def _is_mine(
    who: Actor, kind: str, case: Case, org_id: int | None, helpers: list[tuple[int, str]]
) -> bool:
    if kind == "cell":
        return who.role == "secretary" and who.organisation_id == case.cell_id
    if kind == "helper":
        return who.member_id is not None and any(who.member_id == m for m, _n in helpers)
    return who.role == "officer" and org_id is not None and who.organisation_id == org_id


def _with_claim(task: Task, claim: Claim) -> Task:
    return replace(task, claim=claim)


# ── the bulk reads ─────────────────────────────────────────────────────────
def _deadlines(session: Session, scope: Scope) -> dict[int, dict[str, date]]:
    query = (
        select(col(CaseDeadline.case_id), col(CaseDeadline.deadline), col(CaseDeadline.due))
        .join(Case, col(Case.id) == CaseDeadline.case_id)
        .where(*scope)
    )
    found: dict[int, dict[str, date]] = defaultdict(dict)
    for case_id, deadline, due in session.exec(query):
        found[case_id][deadline] = due
    return found


def _helpers(session: Session, scope: Scope) -> dict[int, list[tuple[int, str]]]:
    query = (
        select(HelperAssignment.case_id, Member.id, Member.full_name)
        .join(Member, col(Member.id) == HelperAssignment.member_id)
        .join(Case, col(Case.id) == HelperAssignment.case_id)
        .where(col(Case.state).in_(HELPER_STATES), *scope)
        .order_by(col(HelperAssignment.id))
    )
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for case_id, member_id, name in session.exec(query):
        found[case_id].append((int(member_id or 0), name))
    return found


def _organisations(session: Session, scope: Scope) -> dict[int, Organisation]:
    """The cells of the cases and every committee (the few that may have to act)."""
    cells = select(Case.cell_id).where(*scope)
    query = select(Organisation).where(
        or_(col(Organisation.id).in_(cells), col(Organisation.kind).not_in(CELL_KINDS))
    )
    return {org.id: org for org in session.exec(query) if org.id is not None}


def _claims(session: Session, scope: Scope) -> dict[tuple[int, str], tuple[int, Claim]]:
    query = (
        select(TaskClaim, User.username, User.full_name)
        .join(User, col(User.id) == TaskClaim.user_id)
        .join(Case, col(Case.id) == TaskClaim.case_id)
        # an officer moved to another organisation (or switched off) holds nothing
        .where(col(User.organisation_id) == TaskClaim.organisation_id, col(User.active))
        .where(*scope)
    )
    return {
        (row.case_id, row.event): (
            row.organisation_id,
            Claim(row.user_id, username, full_name or username),
        )
        for row, username, full_name in session.exec(query)
    }
