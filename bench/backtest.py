"""The forecast's back-test (docs/forecast.md): a history whose process is known —
candidates nominated at a steady pace, each step lasting a random number of days from a
known law, a few withdrawn at each step, some failing the class and starting again —
written as cases and stays (direct inserts, a fixed seed), then the forecast made at
many past days and compared with what then happened: how often did its 80 % interval
hold the admissions that followed from the cases in the pipeline?

    python -m bench.backtest            # prints the coverage table (SQLite in a temp dir)

tests/reports/test_forecast.py runs the same back-test on SQLite and PostgreSQL and
asserts a tolerant band around 80 %.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col

from workflow import process, stays
from workflow.models import Case, CaseStay, Organisation, Person
from workflow.reports.forecast import GOAL, PATH, chances_by_group, read_history, thin_history
from workflow.reports.projection import Model, interval
from workflow.reports.scope import Subtree, subtree_of

# Each step's law: (shortest, longest) days, uniform; the chance of a withdrawal at the
# step. The awareness class is failed one time in ten (back to `nominated`); the
# committee's vote is skipped one time in five (decided on the cell's resolution).
LAWS: dict[str, tuple[int, int, float]] = {
    "nominated": (5, 45, 0.03),
    "in_class": (7, 20, 0.02),
    "class_passed": (5, 50, 0.02),
    "sponsored": (10, 70, 0.03),
    "dossier_complete": (15, 60, 0.02),
    "verified": (3, 20, 0.01),
    "cell_resolved": (5, 40, 0.02),
    "committee_resolved": (10, 45, 0.01),
    "admission_decided": (5, 35, 0.01),
}
FAIL_CLASS = 0.1
SKIP_COMMITTEE = 0.2


@dataclass
class Walk:
    """One simulated case, cut at the day the simulation ends."""

    nominated_on: date
    stays: list[tuple[str, date, date, str]] = field(default_factory=list)
    state: str = "nominated"
    state_since: date = date.min
    ceremony_on: date | None = None
    closed_on: date | None = None

    def state_on(self, day: date) -> tuple[str, date] | None:
        """(state, since) on `day` (after that day's acts), None before nomination."""
        if day < self.nominated_on:
            return None
        for state, entered, left, _ in self.stays:
            if entered <= day < left:
                return state, entered
        if self.state_since <= day:
            return self.state, self.state_since
        return None


def _next(state: str, rng: random.Random) -> str:
    withdraw = LAWS[state][2]
    if rng.random() < withdraw:
        return "withdrawn"
    if state == "in_class" and rng.random() < FAIL_CLASS:
        return "nominated"
    if state == "cell_resolved" and rng.random() < SKIP_COMMITTEE:
        return "admission_decided"
    order = process.STATE_NAMES
    return order[order.index(state) + 1]


def walk(nominated_on: date, until: date, rng: random.Random) -> Walk:
    """A case from its nomination through the known process, up to `until`."""
    case = Walk(nominated_on)
    state, since = "nominated", nominated_on
    while state in LAWS:
        low, high, _ = LAWS[state]
        left = since + timedelta(days=rng.randint(low, high))
        following = _next(state, rng)
        if left > until:
            break
        case.stays.append((state, since, left, following))
        state, since = following, left
        if state == GOAL:
            case.ceremony_on = left
        if state == "withdrawn":
            case.closed_on = left
    case.state, case.state_since = state, since
    return case


def simulate(seed: int, start: date, until: date, per_day: float) -> list[Walk]:
    """Cases nominated from `start` to `until` at about `per_day` a day (Poisson)."""
    rng = random.Random(seed)
    walks = []
    day = start
    while day <= until:
        for _ in range(_poisson(rng, per_day)):
            walks.append(walk(day, until, rng))
        day += timedelta(days=1)
    return walks


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count


def write(session: Session, cell: Organisation, walks: list[Walk]) -> None:
    """The walks as Person, Case and CaseStay rows (direct inserts: a test fixture and
    the back-test's data, never the application's way of writing cases)."""
    assert cell.id is not None
    persons = [
        {
            "full_name": f"Backtest {n}",
            "birth_date": date(1995, 1, 1),
            "gender": "male",
            "ethnicity": "Kinh",
            "occupation": "farmer",
            "youth_union_member": False,
            "trade_union_member": False,
        }
        for n in range(len(walks))
    ]
    if not walks:
        return
    ids = session.execute(
        insert(Person).returning(col(Person.id), sort_by_parameter_order=True), persons
    ).scalars()
    defaults = Case(person_id=0, cell_id=0, state="", nominated_on=date.min).model_dump(
        exclude={"id"}
    )
    rows = [
        defaults
        | {
            "person_id": person_id,
            "cell_id": cell.id,
            "org_path": cell.path,
            "state": w.state,
            "state_since": w.state_since,
            "open": w.closed_on is None,
            "nominated_on": w.nominated_on,
            "ceremony_on": w.ceremony_on,
            "closed_on": w.closed_on,
        }
        for person_id, w in zip(ids, walks, strict=True)
    ]
    case_ids = session.execute(
        insert(Case).returning(col(Case.id), sort_by_parameter_order=True), rows
    ).scalars()
    stay_rows = [
        stays.stay(case_id, cell.path, state, entered, left, "backtest", following)
        for case_id, w in zip(case_ids, walks, strict=True)
        for state, entered, left, following in w.stays
    ]
    for n in range(0, len(stay_rows), 5_000):
        session.execute(insert(CaseStay), stay_rows[n : n + 5_000])
    session.commit()


@dataclass(frozen=True)
class Check:
    """One forecast made on `origin` for the admissions by `end`, and what happened."""

    origin: date
    end: date
    pipeline: int
    expected: float
    low: int
    high: int
    actual: int

    @property
    def covered(self) -> bool:
        return self.low <= self.actual <= self.high


def check(session: Session, org: Subtree, walks: list[Walk], origin: date, end: date) -> Check:
    """The forecast on `origin` of the pipeline's admissions by `end` (as the report
    makes it), against the admissions those cases then had."""
    history = read_history(session, org, origin)
    if thin_history(history) is not None:
        raise ValueError(f"history too thin on {origin}")
    model = Model(PATH, GOAL, history.observations)
    chances = chances_by_group(model, history.pipeline, (end - origin).days)
    band = interval((p, history.pipeline[key]) for key, p in chances.items())
    expected = sum(p * history.pipeline[key] for key, p in chances.items())
    in_pipeline = [w for w in walks if (w.state_on(origin) or ("", origin))[0] in PATH]
    actual = sum(1 for w in in_pipeline if w.ceremony_on and origin < w.ceremony_on <= end)
    return Check(origin, end, len(in_pipeline), expected, band.low, band.high, actual)


def origins(first: date, last: date, every_days: int) -> list[date]:
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += timedelta(days=every_days)
    return days


SEED = 20_261_130
START, UNTIL = date(2019, 1, 1), date(2025, 12, 31)
HORIZONS = (30, 90, 180)


def backtest(session: Session, org: Subtree, walks: list[Walk]) -> list[Check]:
    """Forecasts every 45 days of 2023–2025, each for 30, 90 and 180 days ahead."""
    return [
        check(session, org, walks, origin, origin + timedelta(days=horizon))
        for origin in origins(date(2023, 1, 1), UNTIL - timedelta(days=180), 45)
        for horizon in HORIZONS
    ]


def coverage(checks: list[Check]) -> float:
    return sum(c.covered for c in checks) / len(checks)


def table(checks: list[Check]) -> str:
    lines = ["horizon  forecasts  covered  coverage  mean expected  mean actual"]
    for horizon in (*HORIZONS, None):
        chosen = [c for c in checks if horizon is None or (c.end - c.origin).days == horizon]
        lines.append(
            f"{'all' if horizon is None else f'{horizon} d':>7}  {len(chosen):>9}  "
            f"{sum(c.covered for c in chosen):>7}  {coverage(chosen):>8.1%}  "
            f"{sum(c.expected for c in chosen) / len(chosen):>13.1f}  "
            f"{sum(c.actual for c in chosen) / len(chosen):>11.1f}"
        )
    return "\n".join(lines)


def build(url: str, per_day: float = 2.0, seed: int = SEED) -> tuple[Any, Subtree, list[Walk]]:
    """A migrated database at `url` holding one cell's simulated history."""
    from workflow import db
    from workflow.ops import demo

    database = db.connect(url)
    db.migrate(database)
    walks = simulate(seed, START, UNTIL, per_day)
    with Session(database) as session:
        top = demo.add_organisation(session, "Đảng bộ mô phỏng", "committee", None, True)
        cell = demo.add_organisation(session, "Chi bộ mô phỏng", "cell", top)
        session.commit()
        write(session, cell, walks)
        org = subtree_of(session, top)
    return database, org, walks


def main() -> None:
    """The coverage table at two sizes: a large cell (2 nominations a day) and a small
    one (one every other day), where the intervals are relatively wider."""
    for per_day in (2.0, 0.5):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'backtest.db'}"
            database, org, walks = build(url, per_day)
            with Session(database) as session:
                checks = backtest(session, org, walks)
            database.dispose()
        print(f"{len(walks)} simulated cases ({per_day:g} a day), seed {SEED}; 80 % intervals")
        print(table(checks))
        print()


if __name__ == "__main__":
    main()
