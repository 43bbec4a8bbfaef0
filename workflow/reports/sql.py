"""The SQL every report shares: the subtree and period predicates, the date parts and the
age band compiled per dialect, and `tally` — a period's cases counted per month and per
(cell, year).

Date parts are compiled per dialect (SQLite keeps dates as text); expressions with bound
values are grouped in an outer query over a subquery, because PostgreSQL does not
recognise two separately bound copies of one expression as equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, func, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session, col

from workflow.models import Case, CeremonyTally, Organisation, OutcomeTally
from workflow.reports.categories import AGE_BANDS
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.tallies import CEREMONY_TALLY_MAX_PATH


def in_subtree(path_column: Any, tree: Subtree) -> ColumnElement[bool]:
    """The one scoping predicate: the path starts with the organisation's path.

    On SQLite it is written as the equivalent range [path, path without its "/" + "0"):
    an index on the path answers a range, while SQLite's case-insensitive LIKE is served
    by none. Paths hold only digits and "/", and "/" sorts just before "0", so the range
    holds exactly the paths with that prefix. Elsewhere (PostgreSQL) a LIKE 'path%',
    which is right whatever the column's collation.
    """
    if tree.whole:
        return true()
    column = col(path_column)
    if tree.bytewise:
        return and_(column >= tree.path, column < tree.path[:-1] + "0")
    return column.startswith(tree.path)


def between(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(col(column) >= period.start, col(column) <= period.end)


# ── date parts ────────────────────────────────────────────────────────────
class _DatePart(FunctionElement[int]):
    """The year, month or day of a DATE column as an integer.

    The one place the SQL dialects differ: SQLite stores dates as "YYYY-MM-DD" text,
    where `substr` is several times faster than `strftime` (what `extract` compiles to
    there); PostgreSQL and others use `EXTRACT`.
    """

    type = Integer()
    inherit_cache = True
    name = "date_part"


class _Year(_DatePart):
    inherit_cache = True
    slice = (1, 4)
    field = "year"


class _Month(_DatePart):
    inherit_cache = True
    slice = (6, 2)
    field = "month"


class _MonthDay(_DatePart):
    """Month and day, comparable within one dialect: "08-31" on SQLite, 831 elsewhere."""

    inherit_cache = True
    slice = (6, 5)
    field = "month_day"


@compiles(_MonthDay)
def _compile_month_day(element: _DatePart, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    value = compiler.process(column, **kw)
    return f"CAST(EXTRACT(month FROM {value}) * 100 + EXTRACT(day FROM {value}) AS INTEGER)"


@compiles(_MonthDay, "sqlite")
def _compile_month_day_sqlite(element: _DatePart, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"substr({compiler.process(column, **kw)}, 6, 5)"


@compiles(_DatePart)
def _extract(element: _DatePart, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"CAST(EXTRACT({element.field} FROM {compiler.process(column, **kw)}) AS INTEGER)"


@compiles(_DatePart, "sqlite")
def _substr(element: _DatePart, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    start, length = element.slice
    return f"CAST(substr({compiler.process(column, **kw)}, {start}, {length}) AS INTEGER)"


def _year(column: Any) -> Any:
    return _Year(column)


def _month(column: Any) -> Any:
    return _Month(column)


def _month_day(column: Any) -> Any:
    return _MonthDay(column)


# ── the age band ──────────────────────────────────────────────────────────
class AgeBand(ColumnElement[int]):
    """The index in AGE_BANDS of the age, in full years, from `birth` to `on`.

    One construct, compiled per dialect because the age is the costly part of the
    breakdown (a million rows): PostgreSQL computes it once with age() and buckets it
    with width_bucket(); SQLite computes it twice with cheap substr(); any other
    database gets a portable CASE.
    """

    type = Integer()
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 — SQLAlchemy reads its own hook here
        ("birth", InternalTraversal.dp_clauseelement),
        ("on", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, birth: Any, on: Any) -> None:
        self.birth: Any = col(birth)
        self.on: Any = col(on)

    @property
    def _from_objects(self) -> list[Any]:
        return [*self.birth._from_objects, *self.on._from_objects]


LOWER_BOUNDS = [low for low, _, _ in AGE_BANDS[1:]]  # 18, 31, 41, 51, 61


def _portable_age(element: AgeBand) -> Any:
    before_birthday = _month_day(element.on) < _month_day(element.birth)
    return _year(element.on) - _year(element.birth) - case((before_birthday, 1), else_=0)


@compiles(AgeBand)
def _compile_age_band(element: AgeBand, compiler: Any, **kw: Any) -> str:
    age = _portable_age(element)
    whens = [(age < low, index) for index, low in enumerate(LOWER_BOUNDS)]
    return str(compiler.process(case(*whens, else_=len(LOWER_BOUNDS)), **kw))


@compiles(AgeBand, "sqlite")
def _compile_age_band_sqlite(element: AgeBand, compiler: Any, **kw: Any) -> str:
    # Above 17 the bands are decades: 31–40 is (age − 1) / 10 − 1 = 2, … ; clamp 18–30
    # to band 1 and 61 and over to the last band.
    age = f"({compiler.process(_portable_age(element), **kw)})"
    first, last = LOWER_BOUNDS[0], len(LOWER_BOUNDS)
    return f"(CASE WHEN {age} < {first} THEN 0 ELSE min(max(({age} - 1) / 10 - 1, 1), {last}) END)"


@compiles(AgeBand, "postgresql")
def _compile_age_band_postgresql(element: AgeBand, compiler: Any, **kw: Any) -> str:
    on, birth = compiler.process(element.on, **kw), compiler.process(element.birth, **kw)
    age = f"CAST(EXTRACT(year FROM age(CAST({on} AS timestamp), CAST({birth} AS timestamp))) AS INTEGER)"
    bounds = ", ".join(str(low) for low in LOWER_BOUNDS)
    return f"width_bucket({age}, ARRAY[{bounds}])"


# ── counting cases per month and per unit ─────────────────────────────────
@dataclass
class Tally:
    """Counts of the period per month, and per (cell path, year) for the units below.

    Two small GROUP BYs rather than one per (cell, month): a decade over a thousand cells
    would return 120,000 rows to roll up; these return at most 120 and 11,000.
    """

    org_path: str
    months: dict[int, int]  # month key (year × 12 + month − 1) → count
    by_path_year: dict[tuple[str, int], int]

    @property
    def total(self) -> int:
        return sum(self.months.values())

    def by_month(self) -> dict[int, int]:
        return self.months

    def by_year(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for month, n in self.months.items():
            out[month // 12] += n
        return out

    def unit_of(self, path: str) -> int | None:
        """The direct child of the organisation whose subtree holds `path`."""
        rest = path[len(self.org_path) :].strip("/")
        return int(rest.split("/")[0]) if rest else None

    def by_unit(self) -> dict[int | None, int]:
        return {unit: sum(years.values()) for unit, years in self.units_by_year().items()}

    def units_by_year(self) -> dict[int | None, dict[int, int]]:
        out: dict[int | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for (path, year), n in self.by_path_year.items():
            out[self.unit_of(path)][year] += n
        return out


def tally(
    session: Session,
    org: Subtree,
    period: Period,
    date_column: Any,
    *conditions: ColumnElement[bool],
) -> Tally:
    """Cases of the subtree whose `date_column` falls in the period, counted per month
    and per (cell, year)."""
    where = (in_subtree(Case.org_path, org), between(date_column, period), *conditions)
    inner = (
        select(_year(date_column).label("y"), _month(date_column).label("m"))
        .where(*where)
        .subquery()
    )
    months = {
        int(y) * 12 + int(m) - 1: int(n)
        for y, m, n in session.execute(
            select(inner.c.y, inner.c.m, func.count()).group_by(inner.c.y, inner.c.m)
        ).all()
    }
    cells = (
        select(col(Case.org_path).label("path"), _year(date_column).label("y"))
        .where(*where)
        .subquery()
    )
    by_path_year = {
        (path, int(y)): int(n)
        for path, y, n in session.execute(
            select(cells.c.path, cells.c.y, func.count()).group_by(cells.c.path, cells.c.y)
        ).all()
    }
    return Tally(org.path, months, by_path_year)


def admitted_by_path(
    session: Session, org: Subtree, period: Period, date_column: Any
) -> dict[str, int]:
    """Cases of the subtree whose `date_column` falls in the period, per cell path."""
    rows = session.execute(
        select(col(Case.org_path), func.count())
        .where(in_subtree(Case.org_path, org), between(date_column, period))
        .group_by(col(Case.org_path))
    ).all()
    return {str(path): int(n) for path, n in rows}


def units_of(session: Session, org: Subtree) -> list[Organisation]:
    """The organisation's direct children, by name: the units a tally is shown per."""
    query = (
        select(Organisation)
        .where(col(Organisation.parent_id) == org.id)
        .order_by(col(Organisation.name))
    )
    return list(session.scalars(query).all())


def merged(*tallies: Tally) -> Tally:
    """The counts of several disjoint parts of one subtree's cases, added up."""
    months: dict[int, int] = defaultdict(int)
    by_path_year: dict[tuple[str, int], int] = defaultdict(int)
    for part in tallies:
        for month, n in part.months.items():
            months[month] += n
        for key, n in part.by_path_year.items():
            by_path_year[key] += n
    return Tally(tallies[0].org_path, dict(months), dict(by_path_year))


# ── whole months from the ceremony tally (models.CeremonyTally) ───────────
@dataclass(frozen=True)
class Split:
    """A period cut where the tally can answer: its whole months (`whole`: their days,
    `months`: their first and last keys), and the days of the months it cuts (`edges`:
    at most one before, one after), which the reports count from "case"."""

    whole: Period | None
    months: tuple[int, int]
    edges: tuple[Period, ...]


def split(period: Period) -> Split:
    first = period.start if period.start.day == 1 else _next_month(period.start)
    ends_a_month = _next_month(period.end) - timedelta(days=1) == period.end
    last_day = period.end if ends_a_month else period.end.replace(day=1) - timedelta(days=1)
    if last_day < first:
        return Split(None, (0, -1), (period,))
    edges = []
    if period.start < first:
        edges.append(Period(period.start, first - timedelta(days=1), period.as_of))
    if last_day < period.end:
        edges.append(Period(last_day + timedelta(days=1), period.end, period.as_of))
    months = (_key(first), _key(last_day))
    return Split(Period(first, last_day, period.as_of), months, tuple(edges))


def _key(day: date) -> int:
    return day.year * 12 + day.month - 1


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def tallied(*paths: str) -> bool:
    """Whether the tally holds these organisations' ceremonies: it keeps every prefix
    "/…/" of a cell's path up to CEREMONY_TALLY_MAX_PATH characters."""
    return all(
        2 < len(path) <= CEREMONY_TALLY_MAX_PATH and path[0] == path[-1] == "/" for path in paths
    )


@dataclass
class Counted:
    """Cases per month read from a tally for some organisations: `below[path]` in the
    cells under each, `at[path]` in a cell at the path itself."""

    below: dict[str, dict[int, int]]
    at: dict[str, dict[int, int]]

    def subtree(self, path: str) -> dict[int, int]:
        """Per month, the cases of the organisation's whole subtree."""
        months = dict(self.below.get(path, {}))
        for month, n in self.at.get(path, {}).items():
            months[month] = months.get(month, 0) + n
        return months


def ceremony_tally(session: Session, paths: list[str], months: tuple[int, int]) -> Counted:
    """The ceremonies of the months [first, last] of each organisation path."""
    rows = session.execute(
        select(
            col(CeremonyTally.org_path),
            col(CeremonyTally.dim),
            col(CeremonyTally.month),
            col(CeremonyTally.n),
        ).where(
            col(CeremonyTally.org_path).in_(paths),
            col(CeremonyTally.month).between(*months),
            col(CeremonyTally.dim).in_(("at", "ceremonies")),
            col(CeremonyTally.n) != 0,
        )
    ).all()
    found = Counted(defaultdict(dict), defaultdict(dict))
    for path, dim, month, n in rows:
        (found.at if dim == "at" else found.below)[str(path)][int(month)] = int(n)
    return found


def outcome_tally(
    session: Session, paths: list[str], months: tuple[int, int], measure: str
) -> Counted:
    """Confirmations or removals (`measure`) of the months [first, last] of each path."""
    rows = session.execute(
        select(col(OutcomeTally.org_path), col(OutcomeTally.measure), col(OutcomeTally.month))
        .add_columns(col(OutcomeTally.n))
        .where(
            col(OutcomeTally.org_path).in_(paths),
            col(OutcomeTally.measure).in_((measure, f"{measure}_at")),
            col(OutcomeTally.month).between(*months),
            col(OutcomeTally.n) != 0,
        )
    ).all()
    found = Counted(defaultdict(dict), defaultdict(dict))
    for path, kind, month, n in rows:
        (found.below if kind == measure else found.at)[str(path)][int(month)] = int(n)
    return found


def ceremony_keys(
    session: Session, path: str, months: tuple[int, int], keys: tuple[str, ...]
) -> list[Any]:
    """(key, value, count) of the ceremonies of the months [first, last] below the
    organisation `path` (not in a cell at the path itself), per value of each key."""
    return list(
        session.execute(
            select(col(CeremonyTally.dim), col(CeremonyTally.value), func.sum(col(CeremonyTally.n)))
            .where(
                col(CeremonyTally.org_path) == path,
                col(CeremonyTally.month).between(*months),
                col(CeremonyTally.dim).in_(keys),
            )
            .group_by(col(CeremonyTally.dim), col(CeremonyTally.value))
        ).all()
    )


Reader = Callable[[list[str], tuple[int, int]], Counted]


def from_tallies(
    session: Session,
    org: Subtree,
    period: Period,
    units: list[Organisation],
    read: Reader | None,
    date_column: Any,
    *conditions: ColumnElement[bool],
) -> Tally:
    """`tally(…, date_column, *conditions)`, the same counts read by `read` from a
    monthly tally for the period's whole months — the subtree's months from the
    organisation's rows, each unit's from its own, a cell at the organisation's path
    from its `at` rows — and the days of the months the period cuts from "case".
    `units` are the organisation's children (`units_of`): the only ones `Tally.by_unit`
    is read for. Without `read` (or a path the tallies do not keep), all from "case"."""
    paths = [u.path for u in units]
    parts = split(period)
    if read is None or not tallied(org.path, *paths) or parts.whole is None:
        return tally(session, org, period, date_column, *conditions)
    found = read([org.path, *paths], parts.months)
    per_path = {path: found.subtree(path) for path in paths}
    per_path[org.path] = found.at.get(org.path, {})  # unit_of(org.path) is None: direct
    whole = Tally(org.path, found.subtree(org.path), _per_year(per_path))
    edges = [tally(session, org, edge, date_column, *conditions) for edge in parts.edges]
    return merged(whole, *edges)


def ceremonies(
    session: Session, org: Subtree, period: Period, units: list[Organisation], *, tallies: bool
) -> Tally:
    """The subtree's ceremonies (Case.ceremony_on) per month and per unit."""

    def read(paths: list[str], months: tuple[int, int]) -> Counted:
        return ceremony_tally(session, paths, months)

    return from_tallies(session, org, period, units, read if tallies else None, Case.ceremony_on)


def outcomes(
    session: Session,
    org: Subtree,
    period: Period,
    units: list[Organisation],
    measure: str,
    *,
    tallies: bool,
) -> Tally:
    """The subtree's confirmations (Case.official_on) or removals (Case.closed_on of the
    cases removed) per month and per unit."""

    def read(paths: list[str], months: tuple[int, int]) -> Counted:
        return outcome_tally(session, paths, months, measure)

    if measure == "confirmed":
        return from_tallies(
            session, org, period, units, read if tallies else None, Case.official_on
        )
    removed = col(Case.state) == "removed"
    return from_tallies(
        session, org, period, units, read if tallies else None, Case.closed_on, removed
    )


def _per_year(per_path: dict[str, dict[int, int]]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = defaultdict(int)
    for path, months in per_path.items():
        for month, n in months.items():
            out[path, month // 12] += n
    return dict(out)
