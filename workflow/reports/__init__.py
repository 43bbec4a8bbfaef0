"""The figures the districts publish (PROCESS.md, "Reports the districts publish"), for an
organisation's subtree and a period [from, to]:

1. admissions — ceremonies held, against every applicable target;
2. breakdown — the new members: women, Youth Union, ethnic minorities, religion,
   occupation group, education, age band at admission;
3. confirmations as official members, and removals;
4. classes — awareness and new-member theory classes, and their attendees;
5. pipeline — open cases per state, overdue cases per deadline;
6. villages — villages without a party member, heads and deputies who are members,
   at the period's two ends.

Every figure is a GROUP BY in the database: rows come back per (cell, month) or per
category, never per case, so a report over a million cases moves a few thousand rows.
Date parts go through SQLAlchemy's `extract`, which both SQLite and PostgreSQL compile;
expressions with bound values are grouped in an outer query over a subquery, because
PostgreSQL does not recognise two separately bound copies of one expression as equal.

`compute(session, name, org_id, date_from, date_to)` returns a JSON-ready dict whose
"tables" (title, typed columns, rows) feed the pages, CSV and XLSX alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session, col

from workflow import process
from workflow.access import Actor, Forbidden
from workflow.directory import targets
from workflow.directory.classes import KINDS as CLASS_KINDS
from workflow.engine import NotFound
from workflow.models import (
    AdmissionTarget,
    Attendance,
    Case,
    CaseDeadline,
    Course,
    CourseHeadcount,
    Organisation,
    Person,
    Village,
    VillageCensus,
    VillageOfficial,
)
from workflow.reports.figures import NO_FIGURE, percent, vi_percent
from workflow.schema import InvalidData, parse_date

READERS = ("secretary", "officer", "auditor", "admin")
FIRST_DAY, LAST_DAY = date(1930, 1, 1), date(2100, 12, 31)

OCCUPATION_LABELS = {
    "civil_servant": "Cán bộ, công chức",
    "public_employee": "Viên chức",
    "farmer": "Nông dân",
    "worker": "Công nhân",
    "armed_forces": "Công an, quân đội",
    "business_owner": "Kinh doanh",
    "enterprise_owner": "Chủ doanh nghiệp",
    "village_head": "Trưởng, phó thôn",
    "student": "Học sinh, sinh viên",
    "other": "Khác",
}
assert tuple(OCCUPATION_LABELS) == process.OCCUPATIONS, "occupations follow process.py"
# Age at the ceremony: the youth band ends at the Youth Union's age limit (30).
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 17, "Dưới 18"),
    (18, 30, "18–30"),
    (31, 40, "31–40"),
    (41, 50, "41–50"),
    (51, 60, "51–60"),
    (61, None, "Trên 60"),
)
NO_RELIGION = "Không"
NOT_RECORDED = "Chưa ghi"


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    as_of: date  # "overdue" is judged on this day (the end, or today if sooner)

    @property
    def months(self) -> list[int]:
        """Month keys (year × 12 + month − 1) from the first month to the last."""
        first = self.start.year * 12 + self.start.month - 1
        last = self.end.year * 12 + self.end.month - 1
        return list(range(first, last + 1))


@dataclass(frozen=True)
class Report:
    name: str
    title_vi: str
    title_en: str
    build: Callable[[Session, Subtree, Period], dict[str, Any]]


def month_label(key: int) -> str:
    year, month = divmod(key, 12)
    return f"{month + 1:02d}/{year}"


def month_iso(key: int) -> str:
    year, month = divmod(key, 12)
    return f"{year}-{month + 1:02d}"


# ── shared pieces ─────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Subtree:
    """The organisation a report is for: its id and path, whether it is the only root
    (then every row is in its subtree and none needs its path checked), and whether the
    database compares paths as plain bytes (SQLite)."""

    id: int
    path: str
    whole: bool
    bytewise: bool


def subtree_of(session: Session, org: Organisation) -> Subtree:
    assert org.id is not None
    roots = select(func.count()).select_from(Organisation)
    whole = org.parent_id is None and (
        session.execute(roots.where(col(Organisation.parent_id).is_(None))).scalar_one() == 1
    )
    return Subtree(org.id, org.path, whole, session.get_bind().dialect.name == "sqlite")


def _in_subtree(path_column: Any, tree: Subtree) -> ColumnElement[bool]:
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


def _between(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(col(column) >= period.start, col(column) <= period.end)


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


def _table(title: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> dict[str, Any]:
    """A table as pages, CSV and XLSX show it; column types: text, int, percent."""
    return {
        "title": title,
        "columns": [{"label": label, "type": kind} for label, kind in columns],
        "rows": rows,
    }


def _share(count: int, whole: int) -> dict[str, Any]:
    return {"count": count, "percent": percent(count, whole), "text": vi_percent(count, whole)}


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


def _tally(
    session: Session,
    org: Subtree,
    period: Period,
    date_column: Any,
    *conditions: ColumnElement[bool],
) -> Tally:
    """Cases of the subtree whose `date_column` falls in the period, counted per month
    and per (cell, year)."""
    where = (_in_subtree(Case.org_path, org), _between(date_column, period), *conditions)
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


def _units(session: Session, org: Subtree) -> list[Organisation]:
    query = (
        select(Organisation)
        .where(col(Organisation.parent_id) == org.id)
        .order_by(col(Organisation.name))
    )
    return list(session.scalars(query).all())


def _monthly(period: Period, series: dict[str, dict[int, int]]) -> list[dict[str, Any]]:
    """One row per month of the period, each series with its count and running total."""
    running = dict.fromkeys(series, 0)
    rows = []
    for key in period.months:
        row: dict[str, Any] = {"month": month_iso(key), "label": month_label(key)}
        for name, counts in series.items():
            running[name] += counts.get(key, 0)
            row[name] = counts.get(key, 0)
            row[f"{name}_cumulative"] = running[name]
        rows.append(row)
    return rows


# ── 1. admissions against targets ─────────────────────────────────────────
def admissions(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    tally = _tally(session, org, period, Case.ceremony_on)
    units = _units(session, org)
    applicable = targets.applicable(
        session, [org.id, *(u.id for u in units if u.id is not None)], period.start, period.end
    )
    target_rows = _target_rows(applicable[org.id], tally.total, tally.by_year(), period)
    by_year = tally.by_year()
    years = [
        {
            "year": year,
            "admitted": by_year.get(year, 0),
            "months": _months_of_year_in(period, year),
            "first_month": max(period.start, date(year, 1, 1)).month,
            "last_month": min(period.end, date(year, 12, 31)).month,
        }
        for year in range(period.start.year, period.end.year + 1)
    ]
    unit_rows = _unit_rows(tally, units, applicable, period)
    result = {
        "admitted": tally.total,
        "targets": target_rows,
        "by_year": years,
        "by_month": _monthly(period, {"admitted": tally.by_month()}),
        "by_unit": unit_rows,
    }
    result["tables"] = _admission_tables(result)
    return result


def _months_of_year_in(period: Period, year: int) -> int:
    first = max(period.start, date(year, 1, 1))
    last = min(period.end, date(year, 12, 31))
    return last.month - first.month + 1


def _target_rows(
    applicable: list[AdmissionTarget], total: int, by_year: dict[int, int], period: Period
) -> list[dict[str, Any]]:
    """One row per year of the period and per resolution/term target; "—" where none.

    A year's target is set against that year's admissions; a resolution's or a term's
    against the whole period's, as the articles do ("từ đầu nhiệm kỳ … kết nạp 625,
    đạt 56,8% so với mục tiêu Nghị quyết").
    """
    year_targets = {t.period_start.year: t for t in applicable if t.kind == "year"}
    rows = [
        _target_row("year", year_targets.get(year), by_year.get(year, 0), f"năm {year}")
        | {"year": year}
        for year in range(period.start.year, period.end.year + 1)
    ]
    for kind in ("resolution", "congress_term"):
        of_kind = [t for t in applicable if t.kind == kind]
        rows += [
            _target_row(kind, t, total, t.ref or targets.kind(kind).default_ref_vi) for t in of_kind
        ]
        if not of_kind:
            rows.append(_target_row(kind, None, total, targets.kind(kind).default_ref_vi))
    return rows


def _target_row(
    kind: str, target: AdmissionTarget | None, admitted: int, label: str
) -> dict[str, Any]:
    number = target.number if target else None
    return {
        "kind": kind,
        "kind_label": targets.kind(kind).label_vi,
        "label": label,
        "title": f"Chỉ tiêu {label}"
        if kind == "year"
        else f"{targets.kind(kind).label_vi} ({label})",
        "ref": target.ref if target else "",
        "period_start": target.period_start.isoformat() if target else None,
        "period_end": target.period_end.isoformat() if target else None,
        "number": number,
        "admitted": admitted,
        "percent": percent(admitted, number),
        "text": vi_percent(admitted, number),
    }


def _unit_rows(
    tally: Tally,
    units: list[Organisation],
    applicable: dict[int, list[AdmissionTarget]],
    period: Period,
) -> list[dict[str, Any]]:
    per_unit = tally.units_by_year()
    counts = {unit: sum(years.values()) for unit, years in per_unit.items()}
    rows = []
    for unit in units:
        assert unit.id is not None
        admitted = counts.get(unit.id, 0)
        unit_targets = [
            row
            for row in _target_rows(applicable[unit.id], admitted, per_unit[unit.id], period)
            if row["number"] is not None
        ]
        rows.append(
            {
                "organisation_id": unit.id,
                "name": unit.name,
                "admitted": admitted,
                "share": percent(admitted, tally.total),
                "targets": unit_targets,
            }
        )
    if counts.get(None):
        rows.append(
            {
                "organisation_id": None,
                "name": "Trực thuộc trực tiếp",
                "admitted": counts[None],
                "share": percent(counts[None], tally.total),
                "targets": [],
            }
        )
    return rows


def _admission_tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    target_table = _table(
        "Kết nạp so với chỉ tiêu",
        [("Chỉ tiêu", "text"), ("Số chỉ tiêu", "int"), ("Đã kết nạp", "int"), ("Đạt", "percent")],
        [
            [
                row["title"],
                row["number"],
                row["admitted"],
                row["percent"],
            ]
            for row in result["targets"]
        ],
    )
    year_table = _table(
        "Theo năm",
        [("Năm", "text"), ("Số tháng", "int"), ("Kết nạp", "int")],
        [[str(y["year"]), y["months"], y["admitted"]] for y in result["by_year"]],
    )
    month_table = _table(
        "Theo tháng",
        [("Tháng", "text"), ("Kết nạp", "int"), ("Lũy kế", "int")],
        [[m["label"], m["admitted"], m["admitted_cumulative"]] for m in result["by_month"]],
    )
    unit_table = _table(
        "Theo đơn vị trực thuộc",
        [("Đơn vị", "text"), ("Kết nạp", "int"), ("Tỷ lệ", "percent"), ("Chỉ tiêu", "text")],
        [
            [
                u["name"],
                u["admitted"],
                u["share"],
                "; ".join(f"{t['label']}: {t['number']} ({t['text']})" for t in u["targets"])
                or NO_FIGURE,
            ]
            for u in result["by_unit"]
        ],
    )
    return [target_table, year_table, month_table, unit_table]


# ── 2. breakdown of the new members ───────────────────────────────────────
class _AgeBand(ColumnElement[int]):
    """The index in AGE_BANDS of the age, in full years, from `birth` to `on`.

    One construct, compiled per dialect because the age is the costly part of the
    breakdown (a million rows): PostgreSQL computes it once with age() and buckets it
    with width_bucket(); SQLite computes it twice with cheap substr(); any other
    database gets a portable CASE.
    """

    type = Integer()
    inherit_cache = True
    _traverse_internals = [
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


def _portable_age(element: _AgeBand) -> Any:
    before_birthday = _month_day(element.on) < _month_day(element.birth)
    return _year(element.on) - _year(element.birth) - case((before_birthday, 1), else_=0)


@compiles(_AgeBand)
def _compile_age_band(element: _AgeBand, compiler: Any, **kw: Any) -> str:
    age = _portable_age(element)
    whens = [(age < low, index) for index, low in enumerate(LOWER_BOUNDS)]
    return str(compiler.process(case(*whens, else_=len(LOWER_BOUNDS)), **kw))


@compiles(_AgeBand, "sqlite")
def _compile_age_band_sqlite(element: _AgeBand, compiler: Any, **kw: Any) -> str:
    # Above 17 the bands are decades: 31–40 is (age − 1) / 10 − 1 = 2, … ; clamp 18–30
    # to band 1 and 61 and over to the last band.
    age = f"({compiler.process(_portable_age(element), **kw)})"
    first, last = LOWER_BOUNDS[0], len(LOWER_BOUNDS)
    return f"(CASE WHEN {age} < {first} THEN 0 ELSE min(max(({age} - 1) / 10 - 1, 1), {last}) END)"


@compiles(_AgeBand, "postgresql")
def _compile_age_band_postgresql(element: _AgeBand, compiler: Any, **kw: Any) -> str:
    on, birth = compiler.process(element.on, **kw), compiler.process(element.birth, **kw)
    age = f"CAST(EXTRACT(year FROM age(CAST({on} AS timestamp), CAST({birth} AS timestamp))) AS INTEGER)"
    bounds = ", ".join(str(low) for low in LOWER_BOUNDS)
    return f"width_bucket({age}, ARRAY[{bounds}])"


def breakdown(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    inner = (
        select(
            col(Person.gender).label("gender"),
            cast(Person.youth_union_member, Integer).label("youth"),
            func.coalesce(col(Person.ethnicity), "Kinh").label("ethnicity"),
            func.coalesce(col(Person.religion), "").label("religion"),
            func.coalesce(col(Person.education), "").label("education"),
            col(Person.occupation).label("occupation"),
            _AgeBand(Person.birth_date, Case.ceremony_on).label("band"),
        )
        .select_from(Case)
        .join(Person, col(Person.id) == Case.person_id)
        .where(_in_subtree(Case.org_path, org), _between(Case.ceremony_on, period))
        .subquery()
    )
    keys = [
        inner.c[k]
        for k in (
            "gender",
            "youth",
            "ethnicity",
            "religion",
            "education",
            "occupation",
            "band",
        )
    ]
    groups = session.execute(select(*keys, func.count()).group_by(*keys)).all()
    return _breakdown_result(groups)


def _breakdown_result(groups: Iterable[Any]) -> dict[str, Any]:
    total = women = youth = minorities = 0
    dims: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for gender, is_youth, ethnicity, religion, education, occupation, band, n in groups:
        total += n
        women += n if gender == "female" else 0
        youth += n if is_youth else 0
        ethnicity = (ethnicity or "").strip() or "Kinh"
        if ethnicity.casefold() != "kinh":
            minorities += n
            dims["ethnicity"][ethnicity] += n
        dims["religion"][_religion(religion)] += n
        dims["education"][(education or "").strip() or NOT_RECORDED] += n
        dims["occupation"][occupation if occupation in OCCUPATION_LABELS else "other"] += n
        dims["band"][AGE_BANDS[int(band)][2]] += n
    occupation = [
        {"key": key, "label": label, **_share(dims["occupation"].get(key, 0), total)}
        for key, label in OCCUPATION_LABELS.items()
    ]
    bands = [
        {"key": label, "label": label, **_share(dims["band"].get(label, 0), total)}
        for _, _, label in AGE_BANDS
        if label != AGE_BANDS[0][2] or dims["band"].get(label)
    ]
    result: dict[str, Any] = {
        "admitted": total,
        "women": _share(women, total),
        "youth_union": _share(youth, total),
        "ethnic_minorities": _share(minorities, total),
        "by_occupation": occupation,
        "by_ethnicity": _ranked(dims["ethnicity"], total),
        "by_religion": _ranked(dims["religion"], total),
        "by_education": _ranked(dims["education"], total),
        "by_age_band": bands,
    }
    result["tables"] = _breakdown_tables(result)
    return result


def _religion(value: str | None) -> str:
    text = (value or "").strip()
    return NO_RELIGION if text.casefold() in ("", "không", "khong", "none") else text


def _ranked(counts: dict[str, int], total: int) -> list[dict[str, Any]]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"key": key, "label": key, **_share(n, total)} for key, n in ordered]


def _breakdown_tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    columns = [("Nhóm", "text"), ("Số lượng", "int"), ("Tỷ lệ", "percent")]
    total = result["admitted"]
    headline = _table(
        "Đảng viên mới kết nạp",
        columns,
        [
            ["Tổng số", total, percent(total, total)],
            ["Nữ", result["women"]["count"], result["women"]["percent"]],
            [
                "Đoàn viên TNCS Hồ Chí Minh",
                result["youth_union"]["count"],
                result["youth_union"]["percent"],
            ],
            [
                "Dân tộc ít người",
                result["ethnic_minorities"]["count"],
                result["ethnic_minorities"]["percent"],
            ],
        ],
    )
    sections = (
        ("Theo lĩnh vực, nghề nghiệp", "by_occupation"),
        ("Theo độ tuổi khi kết nạp", "by_age_band"),
        ("Theo trình độ học vấn", "by_education"),
        ("Theo tôn giáo", "by_religion"),
        ("Dân tộc ít người", "by_ethnicity"),
    )
    return [headline] + [
        _table(title, columns, [[r["label"], r["count"], r["percent"]] for r in result[key]])
        for title, key in sections
    ]


# ── 3. confirmations and removals ─────────────────────────────────────────
def confirmations(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    confirmed = _tally(session, org, period, Case.official_on)
    removed = _tally(session, org, period, Case.closed_on, col(Case.state) == "removed")
    awaiting = session.execute(
        select(func.count())
        .select_from(Case)
        .where(
            _in_subtree(Case.org_path, org),
            col(Case.state).in_(process.CONFIRMATION),
            col(Case.probation_end) < period.as_of,
        )
    ).scalar_one()
    units = _units(session, org)
    confirmed_units, removed_units = confirmed.by_unit(), removed.by_unit()
    result: dict[str, Any] = {
        "confirmed": confirmed.total,
        "removed": removed.total,
        "awaiting_after_probation": int(awaiting),
        "as_of": period.as_of.isoformat(),
        "by_month": _monthly(
            period, {"confirmed": confirmed.by_month(), "removed": removed.by_month()}
        ),
        "by_unit": [
            {
                "organisation_id": u.id,
                "name": u.name,
                "confirmed": confirmed_units.get(u.id, 0),
                "removed": removed_units.get(u.id, 0),
            }
            for u in units
        ],
    }
    result["tables"] = [
        _table(
            "Công nhận đảng viên chính thức và xóa tên",
            [("Chỉ số", "text"), ("Số lượng", "int")],
            [
                ["Công nhận đảng viên chính thức", result["confirmed"]],
                ["Xóa tên đảng viên dự bị", result["removed"]],
                ["Hết thời gian dự bị, chưa được xét", result["awaiting_after_probation"]],
            ],
        ),
        _table(
            "Theo tháng",
            [("Tháng", "text"), ("Công nhận chính thức", "int"), ("Xóa tên", "int")],
            [[m["label"], m["confirmed"], m["removed"]] for m in result["by_month"]],
        ),
        _table(
            "Theo đơn vị trực thuộc",
            [("Đơn vị", "text"), ("Công nhận chính thức", "int"), ("Xóa tên", "int")],
            [[u["name"], u["confirmed"], u["removed"]] for u in result["by_unit"]],
        ),
    ]
    return result


# ── 4. classes and attendees ──────────────────────────────────────────────
CLASS_LIST_LIMIT = 1000


def classes(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    """Classes held by organisations of the subtree that started in the period.

    A class's attendees are its recorded headcount when the organiser reported one
    (it includes people without a case), else the cases enrolled through the engine.
    """
    per_class = (
        select(
            col(Course.kind).label("kind"),
            func.coalesce(col(CourseHeadcount.attendees), _enrolled()).label("attendees"),
        )
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .outerjoin(CourseHeadcount, col(CourseHeadcount.course_id) == Course.id)
        .where(_in_subtree(Organisation.path, org), _between(Course.starts_on, period))
        .subquery()
    )
    totals = {
        kind: (int(n), int(people or 0))
        for kind, n, people in session.execute(
            select(per_class.c.kind, func.count(), func.sum(per_class.c.attendees)).group_by(
                per_class.c.kind
            )
        ).all()
    }
    candidates = _candidates_in_class(session, org, period)
    kinds = [
        {
            "kind": kind,
            "label": label,
            "classes": totals.get(kind, (0, 0))[0],
            "attendees": totals.get(kind, (0, 0))[1],
            "candidates_of_subtree": int(candidates.get(kind, 0)),
        }
        for kind, label in CLASS_KINDS.items()
    ]
    listed = _class_list(session, org, period)
    result: dict[str, Any] = {"by_kind": kinds, "classes": listed}
    result["tables"] = [
        _table(
            "Số lớp và số học viên",
            [
                ("Loại lớp", "text"),
                ("Số lớp", "int"),
                ("Số học viên", "int"),
                ("Trong đó hồ sơ của đơn vị", "int"),
            ],
            [[k["label"], k["classes"], k["attendees"], k["candidates_of_subtree"]] for k in kinds],
        ),
        _table(
            "Danh sách lớp",
            [
                ("Loại lớp", "text"),
                ("Tên lớp", "text"),
                ("Đơn vị mở lớp", "text"),
                ("Tổ chức", "text"),
                ("Khai giảng", "text"),
                ("Bế giảng", "text"),
                ("Học viên", "int"),
            ],
            [
                [
                    CLASS_KINDS.get(c["kind"], c["kind"]),
                    c["name"],
                    c["issuer"],
                    c["organisation"],
                    c["starts_on"],
                    c["ends_on"] or "",
                    c["attendees"],
                ]
                for c in listed
            ],
        ),
    ]
    return result


def _candidates_in_class(session: Session, org: Subtree, period: Period) -> dict[str, int]:
    """The subtree's own candidates sent to a class that started in the period — what a
    cell reports, its classes being held by the committee above. Read from the case's
    own dates (set by enrol_in_class / complete_theory_class), one pass over the cases."""
    awareness, theory = (
        _between(Case.class_started_on, period),
        _between(Case.theory_class_on, period),
    )
    row = session.execute(
        select(
            func.coalesce(func.sum(case((awareness, 1), else_=0)), 0),
            func.coalesce(func.sum(case((theory, 1), else_=0)), 0),
        ).where(_in_subtree(Case.org_path, org), or_(awareness, theory))
    ).one()
    return {"awareness": int(row[0]), "theory": int(row[1])}


def _enrolled() -> Any:
    """A class's cases enrolled through the engine: counted per class from the
    attendance index, never by reading every attendance of the period."""
    return (
        select(func.count())
        .select_from(Attendance)
        .where(col(Attendance.course_id) == Course.id)
        .correlate(Course)
        .scalar_subquery()
    )


def _class_list(session: Session, org: Subtree, period: Period) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Course, col(Organisation.name), col(CourseHeadcount.attendees), _enrolled())
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .outerjoin(CourseHeadcount, col(CourseHeadcount.course_id) == Course.id)
        .where(_in_subtree(Organisation.path, org), _between(Course.starts_on, period))
        .order_by(col(Course.starts_on), col(Course.id))
        .limit(CLASS_LIST_LIMIT)
    ).all()
    return [
        {
            "id": course.id,
            "kind": course.kind,
            "name": course.name,
            "issuer": course.issuer,
            "organisation": org_name,
            "starts_on": course.starts_on.isoformat(),
            "ends_on": course.ends_on.isoformat() if course.ends_on else None,
            "headcount": headcount,
            "enrolled": int(n or 0),
            "attendees": headcount if headcount is not None else int(n or 0),
        }
        for course, org_name, headcount, n in rows
    ]


# ── 5. pipeline ───────────────────────────────────────────────────────────
def pipeline(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    """Open cases per state (today's picture), overdue deadlines on `as_of`, and the
    period's flow: cases opened, and cases closed per outcome."""
    subtree = _in_subtree(Case.org_path, org)
    # "state IN (open states)" rather than the `open` flag: the (org_path, state) index
    # then answers alone, without reading a row per case.
    is_open = col(Case.state).in_(process.OPEN_STATES)
    states = dict(
        session.execute(
            select(col(Case.state), func.count()).where(subtree, is_open).group_by(col(Case.state))
        ).all()
    )
    # Only open cases have live deadlines (the engine drops them on closing): for the
    # whole tree the deadlines alone answer, without reading a case per deadline.
    late = select(col(CaseDeadline.deadline), func.count()).where(
        col(CaseDeadline.due) < period.as_of
    )
    if not org.whole:
        late = late.join(Case, col(Case.id) == CaseDeadline.case_id).where(subtree, is_open)
    overdue = dict(session.execute(late.group_by(col(CaseDeadline.deadline))).all())
    # A case's next_due is its earliest live deadline (None once closed): it is late iff
    # that one is — one range on the next_due index.
    overdue_cases = session.execute(
        select(func.count()).select_from(Case).where(subtree, col(Case.next_due) < period.as_of)
    ).scalar_one()
    nominated = session.execute(
        select(func.count()).select_from(Case).where(subtree, _between(Case.nominated_on, period))
    ).scalar_one()
    closed = dict(
        session.execute(
            select(col(Case.state), func.count())
            .where(subtree, _between(Case.closed_on, period))
            .group_by(col(Case.state))
        ).all()
    )
    return _pipeline_result(states, overdue, int(overdue_cases), int(nominated), closed, period)


def _pipeline_result(
    states: dict[str, int],
    overdue: dict[str, int],
    overdue_cases: int,
    nominated: int,
    closed: dict[str, int],
    period: Period,
) -> dict[str, Any]:
    open_states = [
        {"state": s, "label": process.state(s).label_vi, "cases": int(states.get(s, 0))}
        for s in process.OPEN_STATES
    ]
    deadlines = [
        {"deadline": d.id, "label": d.label_vi, "overdue": int(overdue.get(d.id, 0))}
        for d in process.DEADLINES
    ]
    terminal = [s.name for s in process.STATES if s.terminal]
    outcomes = [
        {"state": s, "label": process.state(s).label_vi, "cases": int(closed.get(s, 0))}
        for s in terminal
    ]
    result: dict[str, Any] = {
        "open": sum(row["cases"] for row in open_states),
        "by_state": open_states,
        "as_of": period.as_of.isoformat(),
        "overdue_cases": overdue_cases,
        "overdue_by_deadline": deadlines,
        "nominated_in_period": nominated,
        "closed_in_period": outcomes,
    }
    result["tables"] = [
        _table(
            "Hồ sơ đang xử lý theo bước",
            [("Bước", "text"), ("Số hồ sơ", "int")],
            [[r["label"], r["cases"]] for r in open_states] + [["Tổng số", result["open"]]],
        ),
        _table(
            f"Quá hạn đến ngày {period.as_of:%d/%m/%Y}",
            [("Thời hạn", "text"), ("Số hồ sơ quá hạn", "int")],
            [[d["label"], d["overdue"]] for d in deadlines]
            + [["Số hồ sơ có hạn quá", overdue_cases]],
        ),
        _table(
            "Trong kỳ",
            [("Chỉ số", "text"), ("Số hồ sơ", "int")],
            [["Giới thiệu mới (mở hồ sơ)", nominated]]
            + [[o["label"], o["cases"]] for o in outcomes],
        ),
    ]
    return result


# ── 6. villages ───────────────────────────────────────────────────────────
def villages(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    """At the period's first and last day: villages, those without a party member, and
    the share of heads and deputies in office who are party members."""
    moments = [_villages_on(session, org, day) for day in dict.fromkeys((period.start, period.end))]
    first, last = moments[0], moments[-1]
    change = {
        "heads_points": _points(first["heads"]["percent"], last["heads"]["percent"]),
        "deputies_points": _points(first["deputies"]["percent"], last["deputies"]["percent"]),
        "without_member": last["without_member"] - first["without_member"],
    }
    result: dict[str, Any] = {
        "at": moments,
        "change": change,
        "without_member_names": _villages_without_member(session, org, period.end),
    }
    result["tables"] = [
        _table(
            "Thôn, tổ dân phố",
            [
                ("Ngày", "text"),
                ("Số thôn", "int"),
                ("Chưa có đảng viên", "int"),
                ("Chưa có số liệu", "int"),
                ("Trưởng thôn", "int"),
                ("Trưởng thôn là đảng viên", "int"),
                ("Tỷ lệ", "percent"),
                ("Phó thôn", "int"),
                ("Phó thôn là đảng viên", "int"),
                ("Tỷ lệ", "percent"),
            ],
            [
                [
                    m["label"],
                    m["villages"],
                    m["without_member"],
                    m["unknown"],
                    m["heads"]["total"],
                    m["heads"]["members"],
                    m["heads"]["percent"],
                    m["deputies"]["total"],
                    m["deputies"]["members"],
                    m["deputies"]["percent"],
                ]
                for m in moments
            ],
        ),
        _table(
            f"Thôn chưa có đảng viên ngày {period.end:%d/%m/%Y}",
            [("Thôn", "text"), ("Tổ chức", "text")],
            [[v["name"], v["organisation"]] for v in result["without_member_names"]],
        ),
    ]
    return result


def _points(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    return round(after - before, 1)


def _existing_on(day: date) -> ColumnElement[bool]:
    return and_(
        or_(col(Village.established_on).is_(None), col(Village.established_on) <= day),
        or_(col(Village.dissolved_on).is_(None), col(Village.dissolved_on) > day),
    )


def _latest_census(day: date) -> Any:
    return (
        select(col(VillageCensus.party_members))
        .where(col(VillageCensus.village_id) == Village.id, col(VillageCensus.counted_on) <= day)
        .order_by(col(VillageCensus.counted_on).desc())
        .limit(1)
        .correlate(Village)
        .scalar_subquery()
    )


def _villages_on(session: Session, org: Subtree, day: date) -> dict[str, Any]:
    in_scope = and_(_in_subtree(Organisation.path, org), _existing_on(day))
    counted = (
        select(_latest_census(day).label("members"))
        .select_from(Village)
        .join(Organisation, col(Organisation.id) == Village.organisation_id)
        .where(in_scope)
        .subquery()
    )
    villages_total, without, unknown = session.execute(
        select(
            func.count(),
            func.sum(case((counted.c.members == 0, 1), else_=0)),
            func.sum(case((counted.c.members.is_(None), 1), else_=0)),
        )
    ).one()
    officials = (
        select(
            col(VillageOfficial.role).label("role"),
            case(
                (
                    and_(
                        col(VillageOfficial.party_member_since).is_not(None),
                        col(VillageOfficial.party_member_since) <= day,
                    ),
                    1,
                ),
                else_=0,
            ).label("member"),
        )
        .join(Village, col(Village.id) == VillageOfficial.village_id)
        .join(Organisation, col(Organisation.id) == Village.organisation_id)
        .where(
            in_scope,
            col(VillageOfficial.starts_on) <= day,
            or_(col(VillageOfficial.ends_on).is_(None), col(VillageOfficial.ends_on) >= day),
        )
        .subquery()
    )
    by_role = {
        role: (int(n), int(members or 0))
        for role, n, members in session.execute(
            select(officials.c.role, func.count(), func.sum(officials.c.member)).group_by(
                officials.c.role
            )
        ).all()
    }
    return {
        "date": day.isoformat(),
        "label": f"{day:%d/%m/%Y}",
        "villages": int(villages_total or 0),
        "without_member": int(without or 0),
        "unknown": int(unknown or 0),
        "heads": _officials_share(*by_role.get("head", (0, 0))),
        "deputies": _officials_share(*by_role.get("deputy", (0, 0))),
    }


def _officials_share(total: int, members: int) -> dict[str, Any]:
    return {
        "total": total,
        "members": members,
        "percent": percent(members, total),
        "text": vi_percent(members, total),
    }


def _villages_without_member(session: Session, org: Subtree, day: date) -> list[dict[str, Any]]:
    rows = session.execute(
        select(col(Village.name), col(Organisation.name))
        .join(Organisation, col(Organisation.id) == Village.organisation_id)
        .where(
            _in_subtree(Organisation.path, org),
            _existing_on(day),
            _latest_census(day) == 0,
        )
        .order_by(col(Organisation.name), col(Village.name))
    ).all()
    return [{"name": name, "organisation": org_name} for name, org_name in rows]


# ── the catalogue and the entry points ────────────────────────────────────
REPORTS: tuple[Report, ...] = (
    Report(
        "admissions", "Kết nạp đảng viên so với chỉ tiêu", "Admissions against targets", admissions
    ),
    Report("breakdown", "Cơ cấu đảng viên mới", "New members' breakdown", breakdown),
    Report(
        "confirmations",
        "Công nhận đảng viên chính thức và xóa tên",
        "Confirmations and removals",
        confirmations,
    ),
    Report("classes", "Lớp bồi dưỡng và học viên", "Classes and attendees", classes),
    Report("pipeline", "Hồ sơ đang xử lý và quá hạn", "Pipeline and overdue cases", pipeline),
    Report(
        "villages",
        "Thôn chưa có đảng viên; trưởng, phó thôn là đảng viên",
        "Villages without a party member; heads and deputies who are members",
        villages,
    ),
)
_BY_NAME = {r.name: r for r in REPORTS}
NAMES = tuple(_BY_NAME)


def report(name: str) -> Report | None:
    return _BY_NAME.get(name)


def catalogue(locale: str = "vi") -> list[dict[str, str]]:
    return [
        {"name": r.name, "title": r.title_en if locale == "en" else r.title_vi} for r in REPORTS
    ]


def period(date_from: date, date_to: date, as_of: date | None = None) -> Period:
    """Check the period (InvalidData naming the field when it cannot be reported on)."""
    for field, day in (("from", date_from), ("to", date_to)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidData(
                field,
                f"Ngày {day:%d/%m/%Y} nằm ngoài khoảng {FIRST_DAY.year}–{LAST_DAY.year}",
                f"{day:%d/%m/%Y} lies outside {FIRST_DAY.year}–{LAST_DAY.year}",
            )
    if date_to < date_from:
        raise InvalidData(
            "to",
            f"Ngày kết thúc {date_to:%d/%m/%Y} trước ngày bắt đầu {date_from:%d/%m/%Y}",
            f"The end {date_to:%d/%m/%Y} is before the start {date_from:%d/%m/%Y}",
        )
    day = date_to if as_of is None else min(as_of, date_to)
    return Period(date_from, date_to, day)


def compute(
    session: Session,
    name: str,
    org_id: int,
    date_from: date,
    date_to: date,
    *,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Report `name` for organisation `org_id`'s subtree over [date_from, date_to].

    `as_of` is the day deadlines are judged overdue (default: `date_to`; pass today so a
    period reaching into the future is judged as of today). No scope check here: callers
    acting for a user go through `organisation_for` first.
    """
    spec = report(name)
    if spec is None:
        raise NotFound(name)
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(org_id)
    span = period(date_from, date_to, as_of)
    result = spec.build(session, subtree_of(session, org), span)
    return {
        "name": spec.name,
        "title": spec.title_vi,
        "organisation": {"id": org.id, "name": org.name, "kind": org.kind},
        "from": span.start.isoformat(),
        "to": span.end.isoformat(),
        **result,
    }


# ── what a request asks for ───────────────────────────────────────────────
def organisation_for(session: Session, actor: Actor, org_id: int | None) -> Organisation:
    """The organisation whose figures the actor asks for (default: their own).

    Sponsors see single cases, not figures (403); an organisation outside the actor's
    subtree does not exist for them (404)."""
    if actor.role not in READERS:
        raise Forbidden(f"role {actor.role} may not read reports")
    if org_id is None:
        org_id = actor.organisation_id or _root_id(session)
    org = session.get(Organisation, org_id) if org_id is not None else None
    if org is None or not actor.acts_for(org.path):
        raise NotFound(org_id)
    return org


def _root_id(session: Session) -> int | None:
    query = (
        select(col(Organisation.id))
        .where(col(Organisation.parent_id).is_(None))
        .order_by(col(Organisation.id))
    )
    return session.scalars(query).first()


def parse_query(args: Any, today: date) -> tuple[int | None, date, date]:
    """`org`, `from`, `to` from a query string (strings), with defaults: the actor's
    organisation, 1 January of this year, today. Bad values raise InvalidData (400)."""
    org_text = (args.get("org") or "").strip()
    org_id: int | None = None
    if org_text:
        if not org_text.isdigit() or int(org_text) > 2**31 - 1:
            raise InvalidData(
                "org",
                f"Mã tổ chức '{org_text}' không hợp lệ",
                f"'{org_text}' is not an organisation id",
            )
        org_id = int(org_text)
    date_to = _query_date(args.get("to"), "to", today)
    date_from = _query_date(args.get("from"), "from", date(date_to.year, 1, 1))
    period(date_from, date_to)
    return org_id, date_from, date_to


def _query_date(value: Any, field: str, default: date) -> date:
    if value is None or str(value).strip() == "":
        return default
    try:
        return parse_date(str(value), field)
    except InvalidData as error:
        label = "Từ ngày" if field == "from" else "Đến ngày"
        raise InvalidData(
            field,
            f"{label}: '{value}' không phải ngày hợp lệ (YYYY-MM-DD)",
            f"'{field}': '{value}' is not a valid date (YYYY-MM-DD)",
        ) from error
