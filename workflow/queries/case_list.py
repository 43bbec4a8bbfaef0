"""The case list, asked one way by the /cases page and by GET /api/v1/cases: one filter,
one query, one capped count, one pagination. Every list is scoped by
`access.visible_cases`, and costs the same few queries whatever its length.

Pages are cut by key (keyset pagination): a page is "the cases after (or before) this
one" in the list's order, read from an index in order, so the 4,000th page of a
province costs what the first does. Page numbers (an OFFSET) are kept only where they
are cheap: within the first COUNT_CAP cases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, extract, func, tuple_
from sqlmodel import Session, col, select

from workflow import access, process
from workflow.access import Actor
from workflow.models import Case, CaseDeadline, Organisation, Person
from workflow.queries import search

SOON_DAYS = 30  # "soon due" on the dashboard and in the list's filter
# Counting a province's million cases exactly costs seconds and tells a reader nothing
# a filter would not: past the cap a list says "more than" and its pages stop there.
COUNT_CAP = 1_000
CELL_KINDS = ("cell", "grassroots_cell")
# The list's cell filter is a <select> for a committee's few dozen cells; a province's
# thousand would weigh 70 KB on every page of its list (its `cell=` links still filter).
CELL_CHOICES = 200
STATE_FILTERS = (*process.STATE_NAMES, "open", "closed")
# overdue: a deadline has passed; soon: the next one is due within SOON_DAYS;
# any: a live deadline; on_time: none has passed (or there is none).
DEADLINE_FILTERS = ("overdue", "soon", "any", "on_time")
# The filters under which every listed case has a next due date: only these are listed
# soonest due first, in the order of the index on (next_due, id).
DUE_FILTERS = ("overdue", "soon", "any")


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
class Cursor:
    """A place in a list: the sort key of one listed case. Its token is what the links
    carry (`after=` / `before=`): the case's id, or its next due date and id."""

    id: int
    due: date | None = None

    @property
    def token(self) -> str:
        return str(self.id) if self.due is None else f"{self.due.isoformat()}_{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """The cursor a token names; None for a token no page of Ketnap would write."""
        if not token or len(token) > 40:
            return None
        due_text, sep, id_text = token.rpartition("_")
        if not (id_text.isascii() and id_text.isdigit()) or not 0 < int(id_text) < 2**63:
            return None
        if not sep:
            return cls(int(id_text))
        try:
            return cls(int(id_text), date.fromisoformat(due_text))
        except ValueError:
            return None

    @classmethod
    def of(cls, case: Case, by_due: bool) -> Cursor:
        assert case.id is not None
        return cls(case.id, case.next_due if by_due else None)


class Counted:
    """A list's length counted up to COUNT_CAP + 1 (`counted`): what a page says of it."""

    counted: int

    @property
    def total(self) -> int:
        """How many match, at most COUNT_CAP."""
        return min(self.counted, COUNT_CAP)

    @property
    def capped(self) -> bool:
        """True when more than `total` match."""
        return self.counted > COUNT_CAP


@dataclass(frozen=True)
class CaseListPage(Counted):
    items: list[ListedCase]
    page: int  # the page's number when asked by number (1 for a page asked by cursor)
    per_page: int
    counted: int  # matching cases, counted up to COUNT_CAP + 1
    next: Cursor | None = None  # where the next page starts (None: this is the last)
    previous: Cursor | None = None  # where the previous page ends (None: the first)
    by_cursor: bool = False  # asked with after= / before= rather than a page number

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def numbered(self) -> bool:
        """Whether the page can say "page n of m": asked by number, and all counted."""
        return not self.by_cursor and not self.capped


def max_page(per_page: int) -> int:
    """The last page that may be asked by number: numbers reach COUNT_CAP, no further."""
    return max(1, -(-COUNT_CAP // per_page))


def list_page(
    session: Session,
    who: Actor,
    spec: CaseFilter,
    today: date,
    *,
    page: int = 1,
    per_page: int = 25,
    soonest_first: bool = False,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> CaseListPage:
    """One page of the cases matching `spec`: newest first, or — under a filter that
    keeps only cases with a due date — the soonest due first. The page is the one after
    `after`, before `before`, or else page number `page` (within COUNT_CAP)."""
    where = spec.conditions(who, today)
    by_due = soonest_first and spec.deadline in DUE_FILTERS
    key: tuple[Any, ...] = (col(Case.next_due), col(Case.id)) if by_due else (col(Case.id),)
    backwards = before is not None and after is None
    cursor = after or before
    if cursor is not None:
        where.append(_beyond(key, cursor, by_due, backwards))
    # newest first is id DESC: "forwards" then runs down the key, "backwards" up it
    ascending = by_due != backwards
    order = tuple(k.asc() if ascending else k.desc() for k in key)
    query = (
        select(Case, Person, Organisation.name)
        .join(Person, col(Person.id) == Case.person_id)
        .join(Organisation, col(Organisation.id) == Case.cell_id)
        .where(*where)
        .order_by(*order)
        .limit(per_page + 1)
    )
    if cursor is None:
        query = query.offset((page - 1) * per_page)
    # numbered pages stop at COUNT_CAP: past it, only a cursor reads on
    numbered_too_far = cursor is None and page > max_page(per_page)
    rows = [] if numbered_too_far else list(session.exec(query).all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    deadlines = live_deadlines(session, [case.id for case, _p, _c in rows if case.id is not None])
    items = [ListedCase(case, person, cell, deadlines[case.id or 0]) for case, person, cell in rows]
    counted = count_capped(session, spec.conditions(who, today), searching=bool(spec.q))
    return CaseListPage(
        items,
        1 if cursor is not None else page,
        per_page,
        counted,
        **_neighbours([case for case, _p, _c in rows], by_due, more, cursor, backwards, page),
    )


def _neighbours(
    cases: list[Case], by_due: bool, more: bool, cursor: Cursor | None, backwards: bool, page: int
) -> dict[str, Any]:
    """The cursors of the next and previous pages (None where there is none), and how
    this page was asked."""
    if not cases:
        return {"by_cursor": cursor is not None}
    if cursor is None:
        earlier, later = page > 1, more
    else:  # forwards, the cursor's own case lies before; backwards, after
        earlier, later = (more, True) if backwards else (True, more)
    return {
        "next": Cursor.of(cases[-1], by_due) if later else None,
        "previous": Cursor.of(cases[0], by_due) if earlier else None,
        "by_cursor": cursor is not None,
    }


def _beyond(
    key: tuple[Any, ...], cursor: Cursor, by_due: bool, backwards: bool
) -> ColumnElement[bool]:
    """The cases past `cursor` in the list's order (before it when `backwards`)."""
    if by_due:
        mark = tuple_(*key)
        point = tuple_(cursor.due or date.min, cursor.id)
        return mark < point if backwards else mark > point
    return col(Case.id) > cursor.id if backwards else col(Case.id) < cursor.id


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


def cells_in_scope(session: Session, who: Actor, limit: int | None = None) -> list[Organisation]:
    """The cells the actor acts for, by name: the list's cell filter, a nomination's cell
    (at most `limit` of them)."""
    query = select(Organisation).where(col(Organisation.kind).in_(CELL_KINDS))
    if who.role != "admin":
        if not who.org_path:
            return []
        query = query.where(col(Organisation.path).startswith(who.org_path))
    return list(session.exec(query.order_by(col(Organisation.name)).limit(limit)))


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
