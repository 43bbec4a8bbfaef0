"""Report 7, step durations: how long each step of the process holds a case, where cases
wait now, and the bottlenecks — the (step, unit) pairs furthest above the subtree.

For each open state of the process (process.OPEN_STATES, in process order):

- the stays that ENDED in the period (models.CaseStay, `left_on` within [from, to]):
  how many, and their median and 90th percentile, in days and in working days (as the
  deadlines count them: weekends and Vietnam's holidays off, workflow.rules);
- the cases WAITING in it on `as_of` (today, or the period's end if sooner): the open
  cases whose current state it is (Case.state) and which entered it on or before
  `as_of` (Case.state_since), with the median and the longest wait in days, and how
  many have a live deadline of that state (process.DEADLINES' `states`) due before
  `as_of`. Ages and deadlines are today's records read as of `as_of`: a case that was
  waiting on a past `as_of` and has moved on since counts among the stays, not here.

Percentiles are NEAREST-RANK: of n values sorted ascending, the p-th percentile is the
value of rank ⌈p·n/100⌉ — an actual stay, never an interpolation; the median is the
50th (of an even count, the lower middle value). They are exact: computed from
histograms the database groups (per child unit, state, days and working days), never
from the stays one by one — the database returns one row per distinct length.

Wide scopes are read from a sample, said in the report's notes and its `sample`: a
province's year is about two million stays, more than a page may read (issue 14: both
reports under 2 s at a million cases). Above SAMPLE_STAYS stays (estimated from a few
days' counts), the stays that ended on every k-th day of the period, each counted k
times — the counts become estimates, the medians and P90s those of a sample of whole
days (k coprime with 7, so every weekday is sampled alike); above SAMPLE_WAITING
waiting cases, the ages of every k-th case by id, for the median wait. The waiting
counts, the longest wait and the past deadlines are always exact. A district's year,
or a commune's decade, is read whole.

The same per child organisation (the direct children, sql.units_of; a stay belongs to
the child whose subtree held the case when it left the step, models.CaseStay.org_path:
a stay across a transfer counts, whole, for the receiving cell; one that ended before
it, for the cell it ended in), and the bottlenecks: for each (step, child) pair
with at least MIN_COUNT stays or waiting cases, two ratios to the subtree —

- duration: the child's median over the subtree's median for the step (stays that
  ended in the period; both at least MIN_COUNT stays and a subtree median above 0);
- waiting: the child's waiting cases over the subtree's waiting cases per child (the
  subtree's count divided by the number of children; at least MIN_COUNT waiting);

its score is the larger ratio; pairs scoring above 1 (above the subtree) are listed,
highest first, at most MAX_BOTTLENECKS, each with its CASES_SHOWN longest-waiting cases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from workflow import process
from workflow.models import Case, CaseStay, Organisation, Person
from workflow.reports.figures import vi_fixed
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import between, in_subtree, units_of
from workflow.reports.tables import table

MIN_COUNT = 5  # stays, or waiting cases, a pair needs before it can be a bottleneck
MAX_BOTTLENECKS = 10
CASES_SHOWN = 5  # the longest-waiting cases listed behind each bottleneck
PERCENTILE_NOTE = (
    "Trung vị và phân vị 90 (P90) tính theo thứ hạng gần nhất: trong n lượt xếp tăng dần, "
    "phân vị p là lượt thứ ⌈p·n/100⌉ (trung vị: p = 50). Ngày làm việc: không kể thứ Bảy, "
    "Chủ nhật và ngày nghỉ lễ, Tết, như khi tính thời hạn."
)
BOTTLENECK_NOTE = (
    f"Điểm nghẽn: cặp (bước, đơn vị) có trung vị thời gian vượt trung vị chung của bước, "
    f"hoặc số hồ sơ đang chờ vượt mức bình quân một đơn vị; mức = tỷ số lớn hơn; chỉ xét "
    f"khi có từ {MIN_COUNT} lượt hoặc {MIN_COUNT} hồ sơ trở lên."
)
DIRECT = "Trực thuộc trực tiếp"
OPEN = frozenset(process.OPEN_STATES)


# ── the child unit of a path, in SQL ──────────────────────────────────────
class _Child(FunctionElement[Any]):
    """The child of an organisation whose subtree holds `path`, from the path alone: on
    SQLite the integer the path's rest starts with (CAST reads the leading digits of
    "4/17/": 4; 0 for the organisation itself), elsewhere the path's field after the
    organisation's own (split_part: "4"; "" for the organisation itself). Both are one
    cheap call per row — the report computes it for every stay of the period. The
    position is a literal (`literal_column`), so a compiled statement is cached per
    organisation depth."""

    inherit_cache = True
    name = "child_unit"


@compiles(_Child)
def _child(element: _Child, compiler: Any, **kw: Any) -> str:
    path, _, field = (compiler.process(c, **kw) for c in element.clauses)
    return f"split_part({path}, '/', {field})"


@compiles(_Child, "sqlite")
def _child_sqlite(element: _Child, compiler: Any, **kw: Any) -> str:
    path, start, _ = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(substr({path}, {start}) AS INTEGER)"


def child_of(path_column: Any, org: Subtree) -> Any:
    """The child of `org` a path lies under (see _Child; `_unit` reads it)."""
    start: Any = literal_column(str(len(org.path) + 1))
    field: Any = literal_column(str(org.path.count("/") + 1))
    return _Child(col(path_column), start, field)


def _unit(value: Any) -> int | None:
    """The child's id from `child_of` (None: the organisation itself)."""
    return int(value) if value else None


# ── percentiles from histograms ───────────────────────────────────────────
def nearest_rank(histogram: Mapping[int, int], p: int) -> int | None:
    """The p-th percentile (nearest rank) of the values counted in `histogram`
    (value → how many): the value of rank ⌈p·n/100⌉; None of no values."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(-(-total * p // 100), 1)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass
class Cell:
    """What the report knows of one step, for the subtree or for one child."""

    days: Counter[int] = field(default_factory=Counter)
    working_days: Counter[int] = field(default_factory=Counter)
    waiting: Counter[int] = field(default_factory=Counter)  # age in days → cases (sampled)
    waiting_count: int = 0  # every waiting case, its entry day known or not
    oldest: int | None = None  # the longest wait in days
    past_deadline: int = 0

    def add(self, other: Cell) -> None:
        self.days.update(other.days)
        self.working_days.update(other.working_days)
        self.waiting.update(other.waiting)
        self.waiting_count += other.waiting_count
        self.oldest = _larger(self.oldest, other.oldest)
        self.past_deadline += other.past_deadline

    @property
    def count(self) -> int:
        return sum(self.days.values())

    def figures(self, state: str) -> dict[str, Any]:
        return {
            "state": state,
            "label": process.state(state).label_vi,
            "left": {
                "count": self.count,
                "days": _spread(self.days),
                "working_days": _spread(self.working_days),
            },
            "waiting": {
                "count": self.waiting_count,
                "median_days": nearest_rank(self.waiting, 50),
                "max_days": self.oldest,
                "past_deadline": self.past_deadline,
            },
        }


def _larger(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _spread(histogram: Counter[int]) -> dict[str, int | None]:
    return {"median": nearest_rank(histogram, 50), "p90": nearest_rank(histogram, 90)}


Grid = dict[int | None, dict[str, Cell]]  # child unit (None: the organisation itself) → state


# ── the queries ───────────────────────────────────────────────────────────
STEP = 100_000  # above any stay's length in days (dates lie within 1930–2100)
# Beyond these, a report reads a sample (said in its notes): a province's year is ~2
# million stays, more than a page may read (issue 14: under 2 s at a million cases).
SAMPLE_STAYS = 150_000  # stays read at most (about): every k-th end day beyond
SAMPLE_WAITING = 50_000  # waiting cases whose age is read: every k-th case id beyond
PROBES = 24  # days counted to estimate a period's stays


def stay_stride(session: Session, org: Subtree, period: Period) -> int:
    """1, or every how many end days the period's stays are read: above about
    SAMPLE_STAYS stays (estimated from PROBES days spread over the period), every k-th
    day counting back from the period's last — k coprime with 7, so the sampled days
    rotate through the weekdays (a stay's working days depend on them)."""
    days = (period.end - period.start).days + 1
    gap = max(days // PROBES, 1)
    probes = [period.start + timedelta(days=n) for n in range(0, days, gap)]
    counted = session.execute(
        select(func.count())
        .select_from(CaseStay)
        .where(col(CaseStay.left_on).in_(probes), in_subtree(CaseStay.org_path, org))
    ).scalar_one()
    stride = -(-int(counted) * gap // SAMPLE_STAYS)
    if stride <= 1:
        return 1
    return stride + 1 if stride % 7 == 0 else stride


def _sampled_days(period: Period, stride: int) -> Any:
    if stride == 1:
        return between(CaseStay.left_on, period)
    last, days = period.end, (period.end - period.start).days
    return col(CaseStay.left_on).in_([last - timedelta(days=n) for n in range(0, days + 1, stride)])


def _read_stays(
    session: Session, org: Subtree, period: Period, grid: Grid, stride: int = 1
) -> None:
    """Stays that ended in the period (every `stride`th day of it, each counted
    `stride` times), per (child, state, days, working days): ranges of the (left_on,
    org_path, state, …, days, working_days) index. Days and working days are folded
    into one integer: SQLite groups by sorting, and sorts on fewer, cheaper keys faster."""
    key = col(CaseStay.days) * STEP + col(CaseStay.working_days)
    inner = (
        select(
            child_of(CaseStay.org_path, org).label("unit"),
            col(CaseStay.state).label("state"),
            key.label("k"),
        )
        .where(_sampled_days(period, stride), in_subtree(CaseStay.org_path, org))
        .subquery()
    )
    c = inner.c
    query = select(c.unit, c.state, c.k, func.count()).group_by(c.unit, c.state, c.k)
    cell, last = Cell(), None
    for unit, state, k, n in session.connection().execute(query.order_by(c.unit, c.state)).all():
        if (unit, state) != last:  # rows come per (child, state): one lookup per step
            last, cell = (unit, state), _known(grid, unit, state) if state in OPEN else Cell()
        days, working_days = divmod(k, STEP)
        cell.days[days] += n * stride
        cell.working_days[working_days] += n * stride


def _waiting_where(org: Subtree, period: Period) -> tuple[Any, ...]:
    entered = col(Case.state_since)
    return (
        col(Case.state).in_(process.OPEN_STATES),
        in_subtree(Case.org_path, org),
        or_(entered <= period.as_of, entered.is_(None)),
    )


def _read_waiting(session: Session, org: Subtree, period: Period, grid: Grid) -> int:
    """The waiting cases per (child, state), exact: how many, the longest wait, how
    many past a deadline of their step — grouped per (state, cell) in the order of the
    (state, org_path, state_since, next_due, id) index, so nothing is sorted. Returns
    how many wait in all.

    "Past a deadline of its step" is next_due < as_of: a case's live deadlines are
    those of the state it is in (process.DEADLINES' `states`: the engine recomputes them
    at every transition), and Case.next_due is the earliest of them."""
    entered, due = col(Case.state_since), col(Case.next_due)
    past = func.sum(case((due < period.as_of, 1), else_=0))
    query = (
        select(col(Case.state), col(Case.org_path), func.count(), func.min(entered), past)
        .where(*_waiting_where(org, period))
        .group_by(col(Case.state), col(Case.org_path))
    )
    total = 0
    for state, path, n, first, late in session.connection().execute(query):
        cell = _known(grid, _unit_of_path(path, org), state)
        cell.waiting_count += int(n)
        cell.past_deadline += int(late or 0)
        if first is not None:
            cell.oldest = _larger(cell.oldest, (period.as_of - _as_date(first)).days)
        total += int(n)
    return total


def _unit_of_path(path: str, org: Subtree) -> int | None:
    """The child of the organisation whose subtree holds the cell at `path`."""
    rest = path[len(org.path) :].strip("/")
    return int(rest.split("/")[0]) if rest else None


def _read_ages(session: Session, org: Subtree, period: Period, grid: Grid, stride: int = 1) -> None:
    """How long the waiting cases have waited, per (child, state, day they entered
    it), for the median wait: every case, or every `stride`th by id above
    SAMPLE_WAITING (ages are what is sampled; the counts are _read_waiting's)."""
    where = [*_waiting_where(org, period), col(Case.state_since).is_not(None)]
    if stride > 1:
        where.append(col(Case.id) % stride == 0)
    inner = (
        select(
            child_of(Case.org_path, org).label("unit"),
            col(Case.state).label("state"),
            col(Case.state_since).label("since"),
        )
        .where(*where)
        .subquery()
    )
    c = inner.c
    query = select(c.unit, c.state, c.since, func.count()).group_by(c.unit, c.state, c.since)
    as_of, cell, last = period.as_of, Cell(), None
    for unit, state, since, n in (
        session.connection().execute(query.order_by(c.unit, c.state)).all()
    ):
        if (unit, state) != last:  # rows come per (child, state): one lookup per step
            last, cell = (unit, state), _known(grid, unit, state) if state in OPEN else Cell()
        cell.waiting[(as_of - _as_date(since)).days] += n


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _known(grid: Grid, unit_value: Any, state: str) -> Cell:
    """The cell of (child, open state), made on first use."""
    cells = grid[_unit(unit_value)]
    cell = cells.get(state)
    if cell is None:
        cell = cells[state] = Cell()
    return cell


# ── the report ────────────────────────────────────────────────────────────
def step_durations(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    """Step durations of the subtree over the period, the cases waiting on `as_of`
    and the bottlenecks (see the module's docstring for every definition)."""
    grid: Grid = defaultdict(dict)
    stays_every = stay_stride(session, org, period)
    _read_stays(session, org, period, grid, stays_every)
    waiting = _read_waiting(session, org, period, grid)
    cases_every = max(-(-waiting // SAMPLE_WAITING), 1)
    _read_ages(session, org, period, grid, cases_every)
    units = units_of(session, org)
    whole = {state: Cell() for state in process.OPEN_STATES}
    for cells in grid.values():
        for state, cell in cells.items():
            whole[state].add(cell)
    steps = [whole[s].figures(s) for s in process.OPEN_STATES]
    by_unit = _unit_rows(grid, units)
    bottlenecks = find_bottlenecks(grid, whole, units)
    _add_cases(session, org, period, bottlenecks)
    result: dict[str, Any] = {
        "as_of": period.as_of.isoformat(),
        "percentile": "nearest-rank",
        "min_count": MIN_COUNT,
        "steps": steps,
        "by_unit": by_unit,
        "bottlenecks": bottlenecks,
        "sample": {"stays_every_days": stays_every, "waiting_every_cases": cases_every},
        "notes": [PERCENTILE_NOTE, BOTTLENECK_NOTE, *_sample_notes(stays_every, cases_every)],
    }
    result["tables"] = _tables(result, period)
    return result


def _sample_notes(stays_every: int, cases_every: int) -> list[str]:
    """What was estimated from a sample, said where the figures are shown."""
    notes = []
    if stays_every > 1:
        notes.append(
            f"Số lượt rời bước, trung vị và P90 ước tính từ các lượt rời bước vào 1 trong "
            f"{stays_every} ngày của kỳ (mỗi lượt tính {stays_every} lần): kỳ có quá nhiều "
            f"lượt để đọc hết trong thời gian chờ của một trang."
        )
    if cases_every > 1:
        notes.append(
            f"Trung vị số ngày chờ ước tính từ 1 trong {cases_every} hồ sơ đang chờ; số hồ "
            f"sơ đang chờ, số quá hạn và thời gian chờ lâu nhất là số đầy đủ."
        )
    return notes


def _unit_rows(grid: Grid, units: list[Organisation]) -> list[dict[str, Any]]:
    named: list[tuple[int | None, str]] = [(u.id, u.name) for u in units]
    if grid.get(None):
        named.append((None, DIRECT))
    return [
        {
            "organisation_id": unit,
            "name": name,
            "steps": [grid.get(unit, {}).get(s, Cell()).figures(s) for s in process.OPEN_STATES],
        }
        for unit, name in named
    ]


def find_bottlenecks(
    grid: Grid, whole: Mapping[str, Cell], units: list[Organisation]
) -> list[dict[str, Any]]:
    """The (step, child) pairs furthest above the subtree (the module's docstring)."""
    found = []
    for unit in units:
        assert unit.id is not None
        for state, cell in grid.get(unit.id, {}).items():
            scored = _score(cell, whole[state], len(units))
            if scored is not None:
                found.append((scored, unit, state, cell))
    found.sort(key=lambda f: (-f[0][0], process.OPEN_STATES.index(f[2]), f[1].name))
    return [
        _bottleneck(score, reason, unit, state, cell, whole[state], len(units))
        for (score, reason), unit, state, cell in found[:MAX_BOTTLENECKS]
    ]


def _score(cell: Cell, whole: Cell, units: int) -> tuple[Fraction, str] | None:
    """The larger of the pair's two ratios to the subtree, if above 1."""
    ratios: list[tuple[Fraction, str]] = []
    median, overall = nearest_rank(cell.days, 50), nearest_rank(whole.days, 50)
    if cell.count >= MIN_COUNT and median is not None and overall:
        ratios.append((Fraction(median, overall), "duration"))
    if cell.waiting_count >= MIN_COUNT and whole.waiting_count:
        ratios.append((Fraction(cell.waiting_count * units, whole.waiting_count), "waiting"))
    best = max(ratios, default=None, key=lambda r: r[0])
    return best if best is not None and best[0] > 1 else None


def _bottleneck(
    score: Fraction,
    reason: str,
    unit: Organisation,
    state: str,
    cell: Cell,
    whole: Cell,
    units: int,
) -> dict[str, Any]:
    return {
        "state": state,
        "label": process.state(state).label_vi,
        "organisation_id": unit.id,
        "organisation_path": unit.path,
        "name": unit.name,
        "reason": reason,
        "score": round(float(score), 2),
        "score_text": "×" + vi_fixed(score, 2),
        "count": cell.count,
        "median_days": nearest_rank(cell.days, 50),
        "subtree_median_days": nearest_rank(whole.days, 50),
        "waiting": cell.waiting_count,
        "subtree_waiting_per_unit": round(whole.waiting_count / units, 2),
        "subtree_waiting_per_unit_text": vi_fixed(Fraction(whole.waiting_count, units), 1),
        "cases": [],
    }


def _add_cases(
    session: Session, org: Subtree, period: Period, bottlenecks: list[dict[str, Any]]
) -> None:
    """The CASES_SHOWN longest-waiting cases of each bottleneck, in one statement: the
    cases of those (state, child) pairs ranked per pair, then the few named."""
    if not bottlenecks:
        return
    pairs = [
        and_(
            col(Case.state) == b["state"],
            in_subtree(Case.org_path, Subtree(0, b["organisation_path"], False, org.bytewise)),
        )
        for b in bottlenecks
    ]
    unit = child_of(Case.org_path, org)
    ranked = (
        select(
            col(Case.id).label("case_id"),
            unit.label("unit"),
            col(Case.state).label("state"),
            col(Case.state_since).label("since"),
            func.row_number()
            .over(
                partition_by=(col(Case.state), unit),
                order_by=(col(Case.state_since).asc().nulls_first(), col(Case.id)),
            )
            .label("rank"),
        )
        .where(or_(*pairs), *_waiting_where(org, period))
        .subquery()
    )
    query = (
        select(ranked.c.case_id, ranked.c.unit, ranked.c.state, ranked.c.since)
        .add_columns(col(Person.full_name), col(Organisation.name))
        .join(Case, col(Case.id) == ranked.c.case_id)
        .join(Person, col(Person.id) == col(Case.person_id))
        .join(Organisation, col(Organisation.id) == col(Case.cell_id))
        .where(ranked.c.rank <= CASES_SHOWN)
        .order_by(ranked.c.state, ranked.c.unit, ranked.c.rank)
    )
    by_pair = {(b["state"], b["organisation_id"]): b["cases"] for b in bottlenecks}
    for case_id, unit_text, state, since, full_name, cell in session.execute(query):
        by_pair[state, _unit(unit_text)].append(
            {
                "case_id": int(case_id),
                "full_name": full_name,
                "cell": cell,
                "days_waiting": None if since is None else (period.as_of - _as_date(since)).days,
            }
        )


# ── tables ────────────────────────────────────────────────────────────────
def _tables(result: dict[str, Any], period: Period) -> list[dict[str, Any]]:
    on = f"{period.as_of:%d/%m/%Y}"
    cases = table(
        "Hồ sơ chờ lâu nhất tại các điểm nghẽn",
        [
            ("Mã hồ sơ", "int"),
            ("Họ và tên", "text"),
            ("Chi bộ", "text"),
            ("Bước", "text"),
            ("Đơn vị", "text"),
            (f"Số ngày chờ đến {on}", "int"),
        ],
        [
            [c["case_id"], c["full_name"], c["cell"], b["label"], b["name"], c["days_waiting"]]
            for b in result["bottlenecks"]
            for c in b["cases"]
        ],
    )
    cases["links"] = {"0": "case"}  # the page links each case id to its case
    return [
        table(
            "Thời gian ở từng bước (các lượt rời bước trong kỳ)",
            _LEFT_COLUMNS,
            [_left_row(step) for step in result["steps"]],
        ),
        table(
            f"Hồ sơ đang chờ ở từng bước đến ngày {on}",
            _WAITING_COLUMNS,
            [_waiting_row(step) for step in result["steps"]],
        ),
        table(
            "Theo đơn vị trực thuộc",
            [("Đơn vị", "text"), *_LEFT_COLUMNS, *_WAITING_COLUMNS[1:]],
            [
                [unit["name"], *_left_row(step), *_waiting_row(step)[1:]]
                for unit in result["by_unit"]
                for step in unit["steps"]
                if step["left"]["count"] or step["waiting"]["count"]
            ],
        ),
        table(
            "Điểm nghẽn",
            [
                ("Bước", "text"),
                ("Đơn vị", "text"),
                ("Lý do", "text"),
                ("Mức so với chung", "text"),
                ("Số lượt rời bước", "int"),
                ("Trung vị đơn vị (ngày)", "int"),
                ("Trung vị chung (ngày)", "int"),
                ("Đang chờ", "int"),
                ("Bình quân một đơn vị", "text"),
            ],
            [_bottleneck_row(b) for b in result["bottlenecks"]],
        ),
        cases,
    ]


_LEFT_COLUMNS = [
    ("Bước", "text"),
    ("Số lượt", "int"),
    ("Trung vị (ngày)", "int"),
    ("P90 (ngày)", "int"),
    ("Trung vị (ngày làm việc)", "int"),
    ("P90 (ngày làm việc)", "int"),
]
_WAITING_COLUMNS = [
    ("Bước", "text"),
    ("Đang chờ", "int"),
    ("Trung vị số ngày chờ", "int"),
    ("Chờ lâu nhất (ngày)", "int"),
    ("Quá hạn", "int"),
]
REASONS = {"duration": "Thời gian giải quyết dài", "waiting": "Nhiều hồ sơ đang chờ"}


def _left_row(step: dict[str, Any]) -> list[Any]:
    left = step["left"]
    return [
        step["label"],
        left["count"],
        left["days"]["median"],
        left["days"]["p90"],
        left["working_days"]["median"],
        left["working_days"]["p90"],
    ]


def _waiting_row(step: dict[str, Any]) -> list[Any]:
    waiting = step["waiting"]
    return [
        step["label"],
        waiting["count"],
        waiting["median_days"],
        waiting["max_days"],
        waiting["past_deadline"],
    ]


def _bottleneck_row(b: dict[str, Any]) -> list[Any]:
    return [
        b["label"],
        b["name"],
        REASONS[b["reason"]],
        b["score_text"],
        b["count"],
        b["median_days"],
        b["subtree_median_days"],
        b["waiting"],
        b["subtree_waiting_per_unit_text"],
    ]
