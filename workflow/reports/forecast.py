"""The forecast: for each admission target of the organisation whose period is open on
the report's day (`period.as_of`: today, or the report's last day when that is sooner),
the admissions already recorded in the target's period plus those expected by its end
from the cases in the pipeline — each case's chance of reaching the ceremony in time,
from the subtree's own history (projection.py; the method and its back-test:
docs/forecast.md).

Everything is read from indexes as of the day T, so a forecast can be made for any past
day and compared with what then happened:

- the stays that ended in the WINDOW_YEARS before T (ix_case_stay_left), per (state,
  next state, days): the events of the model;
- the pipeline on T: the stays going on then (entered on or before T, left after it) and
  the open cases in a state since T or before (ix_case_state_since), per (state, day
  entered): the cases forecast, and the model's censored stays;
- the ceremonies recorded in each target's period up to T (ix_case_ceremony_on), and
  the nominations of the last PACE_DAYS (ix_case_nominated_on) for the pace.

When the history is too thin — fewer than MIN_ADMISSIONS ceremonies in the window, or
fewer than MIN_STAYS ended stays in a state that holds cases of the pipeline — the
report says so and gives no expected figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Date, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from workflow import process
from workflow.directory import targets
from workflow.models import AdmissionTarget, Case, CaseStay
from workflow.reports.figures import NO_FIGURE, Share, percent, vi_fixed, vi_number, vi_share
from workflow.reports.period import Period
from workflow.reports.projection import Model, Observations, interval, poisson_interval
from workflow.reports.scope import Subtree
from workflow.reports.sql import between, in_subtree
from workflow.reports.tables import table

GOAL = "probationary"  # the ceremony moves a case here: an admission
ENTRY = process.STATE_NAMES[0]  # a nomination opens a case here
PATH = process.BEFORE_PROBATION  # the states a case can still be admitted from
WINDOW_YEARS = 5  # the history the model is estimated from
MIN_STAYS = 20  # ended stays a state holding pipeline cases needs
MIN_ADMISSIONS = 20  # ceremonies the window needs
PACE_DAYS = 365  # the nominations the pace is measured over
UNREACHABLE = 0.01  # below this chance a nomination made now is "not in time"
SAMPLE_STAYS = 100_000  # the whole tree: ended stays read (about), sampled by end day beyond
SAMPLE_CASES = 5_000  # a subtree: cases whose stays are read, sampled by case id beyond
RATE_DAYS = 28  # the recent days the volume of stays is judged from
USUAL_SPAN = 3 * 365  # the usual time to admission: the median of those admitted by then


@dataclass(frozen=True)
class History:
    """What the forecast reads as of T: the model's observations and the pipeline."""

    as_of: date
    window_start: date  # stays that ended after this day and on or before T
    observations: Observations
    pipeline: dict[tuple[str, int], int]  # (state, days waited on T) → cases
    step: int = 1  # one ended stay in `step` was read, its count weighted by `step`
    sampled_by: str = "day"  # every `step`th end day (the whole tree) or case (a subtree)


def forecast(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    as_of = period.as_of
    open_targets = sorted(
        targets.applicable(session, [org.id], as_of, as_of)[org.id],
        key=lambda t: (targets.KIND_NAMES.index(t.kind), t.period_start, t.period_end),
    )
    history = read_history(session, org, as_of, with_stays=bool(open_targets))
    thin = thin_history(history) if open_targets else None
    model = None if thin or not open_targets else Model(PATH, GOAL, history.observations)
    if model is not None:  # the longest horizon first: the others are its prefixes
        longest = max((t.period_end - as_of).days for t in open_targets)
        model.first_passage(max(longest, USUAL_SPAN))
    nominations = _nominations(session, org, as_of)
    rows = [
        _target_forecast(session, org, history, model, target, nominations)
        for target in open_targets
    ]
    message: str | None = thin
    if not open_targets:
        message = f"Không có chỉ tiêu nào đang trong kỳ vào ngày {as_of:%d/%m/%Y}."
    result: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "method": {
            "window_from": history.window_start.isoformat(),
            "window_years": WINDOW_YEARS,
            "min_stays": MIN_STAYS,
            "min_admissions": MIN_ADMISSIONS,
            "admissions_in_window": history.observations.ended_in(GOAL),
            "sample": {"by": history.sampled_by, "every": history.step},
            "usual_days_to_admission": model.usual_days(ENTRY, USUAL_SPAN) if model else None,
        },
        "message": message,
        "pipeline": _pipeline_rows(history, model),
        "nominations_last_12_months": nominations,
        "targets": rows,
    }
    result["tables"] = _tables(result)
    return result


# ── reading the history ───────────────────────────────────────────────────
def window_start(as_of: date, years: int = WINDOW_YEARS) -> date:
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - years, day=28)


def read_history(
    session: Session, org: Subtree, as_of: date, *, with_stays: bool = True
) -> History:
    """The ended stays of the window (when `with_stays`) and the pipeline on `as_of`."""
    start = window_start(as_of)
    observations = Observations()
    stays_subtree = in_subtree(CaseStay.org_path, org)
    on_path = col(CaseStay.state).in_(PATH)
    step, sampled_by = 1, "day"
    if with_stays:
        if org.whole:
            step = sampling_step(session, org, start, as_of)
            which = _ended_in(start, as_of, step)
        else:
            sampled_by = "case"
            step, cases = _case_sample(session, org)
            which = and_(_ended_in(start, as_of, 1), col(CaseStay.case_id).in_(cases))
        ended = (
            select(col(CaseStay.state), col(CaseStay.next_state), col(CaseStay.days), func.count())
            .where(which, stays_subtree, on_path)
            .group_by(col(CaseStay.state), col(CaseStay.next_state), col(CaseStay.days))
        )
        for state, next_state, days, n in session.execute(ended).all():
            observations.add_ended(state, next_state, int(days), int(n) * step)
    pipeline: dict[tuple[str, int], int] = {}
    entered = _Entered(col(CaseStay.left_on), col(CaseStay.days))
    going_on = (
        select(col(CaseStay.state), entered, func.count())
        .where(col(CaseStay.left_on) > as_of, entered <= as_of)
        .where(stays_subtree, on_path)
        .group_by(col(CaseStay.state), entered)
    )
    waiting = (
        select(col(Case.state), col(Case.state_since), func.count())
        .where(col(Case.state).in_(PATH), in_subtree(Case.org_path, org))
        .where(col(Case.state_since) <= as_of)
        .group_by(col(Case.state), col(Case.state_since))
    )
    for query in (going_on, waiting):
        for state, entered, n in session.execute(query).all():
            key = (state, (as_of - _day(entered)).days)
            pipeline[key] = pipeline.get(key, 0) + int(n)
    for (state, age), n in pipeline.items():
        observations.add_waiting(state, age, n)
    return History(as_of, start, observations, pipeline, step, sampled_by)


def _case_sample(session: Session, org: Subtree) -> tuple[int, Any]:
    """For a subtree: (k, its cases whose id is a multiple of k) — every case when it
    has up to SAMPLE_CASES, else about SAMPLE_CASES of them. Its stays are then read by
    case (ix_case_stay_case_id) rather than by scanning every cell's stays of the window
    along ix_case_stay_left; a case's id says nothing of how long its steps took, so the
    sample is unbiased."""
    subtree = in_subtree(Case.org_path, org)
    cases = session.execute(select(func.count()).select_from(Case).where(subtree)).scalar_one()
    step = max(1, math.ceil(int(cases) / SAMPLE_CASES))
    chosen = select(col(Case.id)).where(subtree)
    if step > 1:
        chosen = chosen.where(col(Case.id) % step == 0)
    return step, chosen


def sampling_step(session: Session, org: Subtree, start: date, as_of: date) -> int:
    """1, or every how many end days the window's stays are read: a large subtree (a
    province: hundreds of thousands of stays a year) is estimated from a systematic
    sample of its end days — T, T − k, T − 2k, … over the whole window, so every season
    and year keeps its weight — holding about SAMPLE_STAYS stays; the counts are then
    weighted by k. The step is coprime with 7, so the sampled days rotate through the
    weekdays."""
    recent = Period(as_of - timedelta(days=RATE_DAYS - 1), as_of, as_of)
    query = (
        select(func.count())
        .select_from(CaseStay)
        .where(between(CaseStay.left_on, recent), in_subtree(CaseStay.org_path, org))
    )
    per_day = int(session.execute(query).scalar_one()) / RATE_DAYS
    step = max(1, math.ceil(per_day * (as_of - start).days / SAMPLE_STAYS))
    while step > 1 and step % 7 == 0:
        step += 1
    return step


def _ended_in(start: date, as_of: date, step: int) -> Any:
    """Stays that ended after `start` and on or before `as_of`, on every `step`th day."""
    if step == 1:
        return and_(col(CaseStay.left_on) > start, col(CaseStay.left_on) <= as_of)
    days = [as_of - timedelta(days=n) for n in range(0, (as_of - start).days, step)]
    return col(CaseStay.left_on).in_(days)


class _Entered(FunctionElement[date]):
    """A stay's first day as left_on − days: the covering index ix_case_stay_left holds
    both, so the stays going on at a past day are found without reading a row each
    (entered_on is not in the index). Date arithmetic differs: PostgreSQL subtracts an
    integer from a date; SQLite keeps "YYYY-MM-DD" text and shifts it with date()."""

    type = Date()
    inherit_cache = True
    name = "entered"


@compiles(_Entered)
def _entered(element: _Entered, compiler: Any, **kw: Any) -> str:
    left_on, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"({left_on} - {days})"


@compiles(_Entered, "sqlite")
def _entered_sqlite(element: _Entered, compiler: Any, **kw: Any) -> str:
    left_on, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({left_on}, '-' || {days} || ' days')"


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def thin_history(history: History) -> str | None:
    """Why the history is too thin to forecast from (Vietnamese), or None."""
    since = f"từ {history.window_start + timedelta(days=1):%d/%m/%Y} đến {history.as_of:%d/%m/%Y}"
    admitted = history.observations.ended_in(GOAL)
    if admitted < MIN_ADMISSIONS:
        return (
            f"Chưa đủ số liệu để dự báo: {since} chỉ có {vi_number(admitted)} lượt kết nạp "
            f"(cần ít nhất {MIN_ADMISSIONS})."
        )
    held = sorted({state for state, _ in history.pipeline}, key=PATH.index)
    few = [s for s in held if history.observations.stays_ended(s) < MIN_STAYS]
    if few:
        steps = "; ".join(
            f"{process.state(s).label_vi}: {vi_number(history.observations.stays_ended(s))}"
            for s in few
        )
        return (
            f"Chưa đủ số liệu để dự báo: {since} có bước có quá ít hồ sơ đã chuyển bước "
            f"(cần ít nhất {MIN_STAYS} mỗi bước — {steps})."
        )
    return None


def _nominations(session: Session, org: Subtree, as_of: date) -> int:
    days = Period(as_of - timedelta(days=PACE_DAYS - 1), as_of, as_of)
    query = (
        select(func.count())
        .select_from(Case)
        .where(between(Case.nominated_on, days), in_subtree(Case.org_path, org))
    )
    return int(session.execute(query).scalar_one())


def _recorded(session: Session, org: Subtree, start: date, end: date) -> int:
    if end < start:
        return 0
    query = (
        select(func.count())
        .select_from(Case)
        .where(between(Case.ceremony_on, Period(start, end, end)), in_subtree(Case.org_path, org))
    )
    return int(session.execute(query).scalar_one())


# ── one target ────────────────────────────────────────────────────────────
def _labels(target: AdmissionTarget) -> tuple[str, str]:
    kind = targets.kind(target.kind)
    if target.kind == "year":
        label = f"năm {target.period_start.year}"
        return label, f"Chỉ tiêu {label}"
    label = target.ref or kind.default_ref_vi
    return label, f"{kind.label_vi} ({label})"


def _target_forecast(
    session: Session,
    org: Subtree,
    history: History,
    model: Model | None,
    target: AdmissionTarget,
    nominations: int,
) -> dict[str, Any]:
    as_of = history.as_of
    label, title = _labels(target)
    recorded = _recorded(session, org, target.period_start, min(as_of, target.period_end))
    horizon = (target.period_end - as_of).days
    row: dict[str, Any] = {
        "kind": target.kind,
        "kind_label": targets.kind(target.kind).label_vi,
        "label": label,
        "title": title,
        "ref": target.ref,
        "period_start": target.period_start.isoformat(),
        "period_end": target.period_end.isoformat(),
        "number": target.number,
        "recorded": recorded,
        "recorded_share": percent(recorded, target.number),
        "days_left": horizon,
        "pipeline_cases": sum(history.pipeline.values()),
    }
    if model is None:
        return row | {"expected": None, "low": None, "high": None, "percent": None}
    return row | _projected(history, model, target, recorded, horizon, nominations)


def _projected(
    history: History,
    model: Model,
    target: AdmissionTarget,
    recorded: int,
    horizon: int,
    nominations: int,
) -> dict[str, Any]:
    chances = chances_by_group(model, history.pipeline, horizon)
    from_pipeline = sum(p * history.pipeline[key] for key, p in chances.items())
    band = interval((p, history.pipeline[key]) for key, p in chances.items())
    expected = recorded + from_pipeline
    fresh = model.fresh(ENTRY, horizon)
    short = target.number - expected
    reachable = short <= 0 or fresh >= UNREACHABLE
    needed = math.ceil(short / fresh) if short > 0 and reachable else 0
    pace = model.from_pace(ENTRY, nominations / PACE_DAYS, horizon)
    pace_band = poisson_interval(pace)
    share = _share(expected, target.number)
    return {
        "from_pipeline": round(from_pipeline, 2),
        "expected": round(expected, 2),
        "expected_count": round(expected),
        "low": recorded + band.low,
        "high": recorded + band.high,
        "interval_exact": band.exact,
        "percent": share,
        "text": vi_share(share),
        "by_state": _by_state(chances, history.pipeline),
        "chance_of_a_nomination_now": round(fresh, 4),
        "chance_of_a_nomination_now_percent": Share(Fraction(round(fresh * 10_000), 100)),
        "reachable": reachable,
        "nominations_needed": needed if reachable else None,
        "needed_text": _needed_text(short, fresh, needed),
        "pace": {
            "per_month": round(nominations / PACE_DAYS * 365 / 12, 1),
            "expected": round(pace, 2),
            "low": pace_band.low,
            "high": pace_band.high,
        },
    }


def _by_state(
    chances: dict[tuple[str, int], float], pipeline: dict[tuple[str, int], int]
) -> dict[str, float]:
    """The expected admissions from each state's cases."""
    totals = dict.fromkeys(PATH, 0.0)
    for (state, age), p in chances.items():
        totals[state] += p * pipeline[state, age]
    return {state: round(total, 2) for state, total in totals.items()}


def chances_by_group(
    model: Model, pipeline: dict[tuple[str, int], int], horizon: int
) -> dict[tuple[str, int], float]:
    """Each (state, days waited) group's chance of reaching the ceremony in time."""
    chances: dict[tuple[str, int], float] = {}
    for state in PATH:
        ages = sorted(a for s, a in pipeline if s == state)
        if ages:
            for age, p in zip(ages, model.reach(state, ages, horizon), strict=True):
                chances[state, age] = float(p)
    return chances


def _share(expected: float, number: int) -> Share | None:
    if number <= 0:
        return None
    return Share(Fraction(round(expected * 100)) / number)


def _needed_text(short: float, fresh: float, needed: int) -> str:
    if short <= 0:
        return "Không cần thêm"
    if fresh < UNREACHABLE:
        return "Không còn kịp"
    return f"{vi_number(needed)} hồ sơ"


# ── the pipeline's picture ────────────────────────────────────────────────
def _pipeline_rows(history: History, model: Model | None) -> list[dict[str, Any]]:
    counts = {state: 0 for state in PATH}
    for (state, _), n in history.pipeline.items():
        counts[state] += n
    out = []
    for state in PATH:
        row: dict[str, Any] = {
            "state": state,
            "label": process.state(state).label_vi,
            "cases": counts[state],
            "stays_ended": history.observations.stays_ended(state),
            "median_days": _median(model, state),
        }
        out.append(row)
    return out


def _median(model: Model | None, state: str) -> int | None:
    """The median stay in the state (Kaplan–Meier): the first day by which half have
    left; None when fewer than half ever did."""
    if model is None:
        return None
    survival = model.laws[state].survival
    below = [d for d, s in enumerate(survival) if s <= 0.5]
    return below[0] if below else None


# ── tables ────────────────────────────────────────────────────────────────
def _tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    as_of = date.fromisoformat(result["as_of"])
    rows = result["targets"]
    target_table = table(
        f"Dự kiến kết nạp đến hết kỳ chỉ tiêu (tính đến ngày {as_of:%d/%m/%Y})",
        [
            ("Chỉ tiêu", "text"),
            ("Tính từ", "date"),
            ("Đến", "date"),
            ("Số chỉ tiêu", "int"),
            ("Đã kết nạp", "int"),
            ("Dự kiến cả kỳ", "int"),
            ("Khoảng 80%", "text"),
            ("Đạt", "percent"),
            ("Khả năng hồ sơ giới thiệu hôm nay kịp kết nạp", "percent"),
            ("Cần giới thiệu thêm ngay", "text"),
        ],
        [
            [
                r["title"],
                r["period_start"],
                r["period_end"],
                r["number"],
                r["recorded"],
                r.get("expected_count"),
                f"{vi_number(r['low'])} – {vi_number(r['high'])}"
                if r["low"] is not None
                else NO_FIGURE,
                r["percent"],
                r.get("chance_of_a_nomination_now_percent"),
                r.get("needed_text", NO_FIGURE),
            ]
            for r in rows
        ],
    )
    pipeline_table = table(
        f"Hồ sơ đang xử lý ngày {as_of:%d/%m/%Y} và căn cứ ước lượng",
        [
            ("Bước", "text"),
            ("Số hồ sơ", "int"),
            *((f"Dự kiến kết nạp đến {_dmy(r['period_end'])}", "text") for r in rows),
            (f"Lượt chuyển bước trong {WINDOW_YEARS} năm", "int"),
            ("Thời gian chờ trung vị (ngày)", "int"),
        ],
        [
            [
                p["label"],
                p["cases"],
                *(_decimal(r.get("by_state", {}).get(p["state"])) for r in rows),
                p["stays_ended"],
                p["median_days"],
            ]
            for p in result["pipeline"]
        ],
    )
    pace_table = table(
        "Tham khảo: nếu giới thiệu mới tiếp tục như 12 tháng qua (chưa tính vào dự kiến)",
        [
            ("Chỉ tiêu", "text"),
            ("Giới thiệu mới mỗi tháng", "text"),
            ("Kết nạp thêm dự kiến", "text"),
            ("Khoảng 80%", "text"),
        ],
        [
            [
                r["title"],
                _decimal(r["pace"]["per_month"]),
                _decimal(r["pace"]["expected"]),
                f"{vi_number(r['pace']['low'])} – {vi_number(r['pace']['high'])}",
            ]
            for r in rows
            if "pace" in r
        ],
    )
    return [target_table, pipeline_table, pace_table, _basis_table(result)]


_SAMPLED_BY = {"day": "ngày", "case": "hồ sơ"}


def _basis_table(result: dict[str, Any]) -> dict[str, Any]:
    method = result["method"]
    usual = method["usual_days_to_admission"]
    sample = method["sample"]
    return table(
        "Căn cứ dự báo",
        [("Nội dung", "text"), ("Giá trị", "text")],
        [
            ["Ngày dự báo", _dmy(result["as_of"])],
            [
                "Số liệu các bước từ ngày",
                _dmy(method["window_from"])
                + (
                    f" (lấy mẫu 1 trên {sample['every']} {_SAMPLED_BY[sample['by']]})"
                    if sample["every"] > 1
                    else ""
                ),
            ],
            ["Lượt kết nạp trong thời gian đó", vi_number(method["admissions_in_window"])],
            [
                "Thời gian thường cần từ giới thiệu đến kết nạp (trung vị)",
                f"{vi_number(usual)} ngày" if usual is not None else NO_FIGURE,
            ],
            ["Giới thiệu mới trong 12 tháng qua", vi_number(result["nominations_last_12_months"])],
            [
                "Ghi chú",
                result["message"] or "Khoảng 80%: kết quả nằm trong khoảng với xác suất 80%",
            ],
        ],
    )


def _dmy(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d/%m/%Y}"


def _decimal(value: float | None) -> str:
    if value is None:
        return NO_FIGURE
    return vi_fixed(Fraction(value).limit_denominator(1000), 1)
