# The test client types `response.json` as `Any | None`; these tests index it freely.
# mypy: disable-error-code="index, union-attr"
"""The step durations (workflow/reports/durations.py) on cases walked through the engine
on chosen dates, so every stay's length is known: the period's edges (a stay that left
the day before the first day, one that left on it), a transfer (the stay is the cell's
that held the case when it left), a withdrawn case, stays across Tết (working days),
cases waiting past their deadline — on SQLite and PostgreSQL; then the page, the API
(JSON, CSV, XLSX) and the CLI for every role that reads reports."""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import event
from sqlmodel import Session, select

from cli.main import main
from tests.reports.conftest import new_engine
from tests.support.postgres import temporary_database
from web.app import create_app
from workflow import process, rules
from workflow.config import Config
from workflow.engine import Engine
from workflow.models import Case, Organisation
from workflow.ops import demo
from workflow.ops.demo import World
from workflow.reports import catalogue, durations
from workflow.reports.durations import nearest_rank

AS_OF = date(2026, 6, 30)
H1 = (date(2026, 1, 1), AS_OF)  # the period: the first half of 2026
SCRIPTED = {step.event: step for step in demo.PATH}


# ── cases walked on chosen dates ──────────────────────────────────────────
def act(engine: Engine, world: World, case_id: int, cell: int, name: str, on: date) -> None:
    """Record `name` for the case on `on`, with the data and actor the demo script uses."""
    if name in SCRIPTED:
        step = SCRIPTED[name]
        data = step.data(world, cell, on)
        who = {
            "secretary": world.secretary,
            "committee": world.committee_officer,
            "authority": world.authority_officer,
        }[step.actor][cell]
    else:
        data = {"withdraw": {"reason": "Chuyển công tác"}}[name]
        who = world.secretary[cell]
    with engine.session() as session:
        version = session.get_one(Case, case_id).version
    engine.advance(case_id, name, data, who, version, on=on.isoformat())


PEOPLE = itertools.count(1)  # each nomination a different person


def nominate(engine: Engine, world: World, cell: int, on: date) -> int:
    data = demo.nomination(random.Random(next(PEOPLE)), cell, on)
    data["person"]["youth_union_member"] = False
    case = engine.nominate(data, world.secretary[cell], on=on.isoformat()).case
    assert case.id is not None
    return case.id


def enrolled(engine: Engine, world: World, cell: int, nominated: date, enrolled: date) -> int:
    """A case nominated, then sent to the awareness class: one stay in `nominated`."""
    case_id = nominate(engine, world, cell, nominated)
    act(engine, world, case_id, cell, "enrol_in_class", enrolled)
    return case_id


MONDAY = date(2026, 1, 5)
DL_NOMINATED = [7, 14, 21, 28, 35]  # days in `nominated`, Đông Lỗ's first cell, from MONDAY
BL_NOMINATED = [42, 49, 56, 63, 70]  # Bằng Lũng's first cell, from 2 March 2026


@dataclass
class Dataset:
    engine: Engine
    world: World
    province: int
    dong_lo: int
    bang_lung: int
    cells: list[int]
    in_class_dl: list[tuple[int, date]]  # (case, enrolled on) waiting in class, Đông Lỗ
    waiting_nominated_bl: int
    late: int  # a decided case whose ceremony is overdue

    def report(self, org: int, start: date = H1[0], end: date = H1[1]) -> dict[str, Any]:
        with self.engine.session() as session:
            return catalogue.compute(session, "step_durations", org, start, end, as_of=AS_OF)


def _org_id(session: Session, name: str) -> int:
    org = session.exec(select(Organisation).where(Organisation.name == name)).one()
    assert org.id is not None
    return org.id


def build(engine: Engine) -> Dataset:
    with engine.session() as session:
        world = demo.build_world(session, random.Random(11))
        province = _org_id(session, "Đảng bộ tỉnh Bắc Giang")
        dong_lo = _org_id(session, "Đảng ủy xã Đông Lỗ")
        bang_lung = _org_id(session, "Đảng ủy thị trấn Bằng Lũng")
    dl1, dl2, dl3, bl1, bl2 = world.cell_ids
    in_class = []
    # ── `nominated`: Đông Lỗ ───────────────────────────────────────────────
    for days in DL_NOMINATED:
        on = MONDAY + timedelta(days=days)
        in_class.append((enrolled(engine, world, dl1, MONDAY, on), on))
    # the period's edges: left the day before its first day (not counted), and on it
    edge = date(2025, 12, 31)
    in_class.append((enrolled(engine, world, dl1, date(2025, 12, 1), edge), edge))
    first = date(2026, 1, 1)
    in_class.append((enrolled(engine, world, dl1, date(2025, 12, 2), first), first))  # 30 days
    # ── `nominated`: Bằng Lũng ─────────────────────────────────────────────
    for days in BL_NOMINATED:
        enrolled(engine, world, bl1, date(2026, 3, 2), date(2026, 3, 2) + timedelta(days=days))
    # a transfer: nominated in Đông Lỗ, moved to Bằng Lũng, sent to class there (35 days)
    moved = nominate(engine, world, dl2, MONDAY)
    engine.advance(moved, "transfer", {"to_cell_id": bl2}, world.secretary[dl2], 1, on="2026-01-20")
    act(engine, world, moved, bl2, "enrol_in_class", date(2026, 2, 9))
    # a closed case: withdrawn after 28 days
    withdrawn = nominate(engine, world, bl1, date(2026, 2, 2))
    act(engine, world, withdrawn, bl1, "withdraw", date(2026, 3, 2))
    waiting = nominate(engine, world, bl1, date(2026, 6, 1))
    # ── `in_class` across Tết (16–20 February 2026 off): Đông Lỗ's third cell ─
    for start, end in (
        (date(2026, 2, 13), date(2026, 2, 23)),
        (date(2026, 2, 6), date(2026, 2, 27)),
    ):
        case_id = enrolled(engine, world, dl3, date(2026, 1, 30), start)  # 14 and 7 days
        act(engine, world, case_id, dl3, "pass_class", end)
    # ── waiting for the ceremony: one overdue, one not yet ─────────────────
    late = durations_walk(engine, world, dl3, date(2025, 6, 1), "admission_decided")
    durations_walk(engine, world, dl3, date(2025, 12, 5), "admission_decided")
    return Dataset(
        engine,
        world,
        province,
        dong_lo,
        bang_lung,
        world.cell_ids,
        in_class,
        waiting,
        late,
    )


def durations_walk(engine: Engine, world: World, cell: int, start: date, state: str) -> int:
    case_id = nominate(engine, world, cell, start)
    demo.walk(engine, world, case_id, cell, start, demo.steps_to(state))
    return case_id


@pytest.fixture(scope="module")
def dataset(database_url: str) -> Iterator[Dataset]:
    engine = new_engine(database_url, AS_OF)
    yield build(engine)
    engine.database.dispose()


def step(rows: list[dict[str, Any]], state: str) -> dict[str, Any]:
    return next(row for row in rows if row["state"] == state)


def unit(report: dict[str, Any], org: int) -> list[dict[str, Any]]:
    return next(u["steps"] for u in report["by_unit"] if u["organisation_id"] == org)


def reference(values: list[int], p: int) -> int:
    """Nearest rank, the textbook way: the ⌈p·n/100⌉-th smallest value."""
    ordered = sorted(values)
    return ordered[max(-(-len(ordered) * p // 100), 1) - 1]


# ── the percentile ────────────────────────────────────────────────────────
def test_nearest_rank_from_a_histogram_is_the_sorted_lists() -> None:
    rng = random.Random(14)
    for _ in range(200):
        values = [rng.randrange(0, 40) for _ in range(rng.randrange(1, 30))]
        histogram: dict[int, int] = {}
        for value in values:
            histogram[value] = histogram.get(value, 0) + 1
        for p in (1, 50, 90, 100):
            assert nearest_rank(histogram, p) == reference(values, p)
    assert nearest_rank({}, 50) is None
    assert nearest_rank({3: 1, 8: 1}, 50) == 3  # the lower middle of an even count
    assert nearest_rank({1: 9, 100: 1}, 90) == 1 and nearest_rank({1: 8, 100: 2}, 90) == 100


# ── durations of the stays that ended in the period ───────────────────────
def test_every_open_step_is_reported_in_process_order(dataset: Dataset) -> None:
    report = dataset.report(dataset.province)
    assert [s["state"] for s in report["steps"]] == list(process.OPEN_STATES)
    assert [s["label"] for s in report["steps"]] == [
        process.state(s).label_vi for s in process.OPEN_STATES
    ]
    assert report["as_of"] == "2026-06-30" and report["percentile"] == "nearest-rank"


def test_the_nominated_step_counts_the_stays_that_left_in_the_period(dataset: Dataset) -> None:
    nominated = step(dataset.report(dataset.province)["steps"], "nominated")
    # Đông Lỗ 7…35, 30 (left on the first day; the one that left on 31/12 is out) and
    # the Tết cases' 14 and 7; Bằng Lũng 42…70, the transferred case's 35, the
    # withdrawn case's 28. Sorted: 7 7 14 14 21 28 28 [30] 35 35 42 49 56 [63] 70.
    days = [7, 14, 21, 28, 35, 30, 14, 7, 42, 49, 56, 63, 70, 35, 28]
    assert nominated["left"]["count"] == 15
    assert nominated["left"]["days"] == {"median": 30, "p90": 63}
    assert (reference(days, 50), reference(days, 90)) == (30, 63)


def test_working_days_leave_out_weekends_and_holidays(dataset: Dataset) -> None:
    report = dataset.report(dataset.province)
    # Mondays to Mondays in January–February: five working days a week
    dong_lo = step(unit(report, dataset.dong_lo), "nominated")["left"]
    assert dong_lo["days"] == {"median": 14, "p90": 35}  # 7 7 14 [14] 21 28 30 [35]
    # 30 days from 2 December 2025 to 1 January 2026 (a holiday): 21 working days
    assert rules.working_days_between(date(2025, 12, 2), date(2026, 1, 1)) == 21
    assert dong_lo["working_days"] == {"median": 10, "p90": 25}  # 5 5 10 [10] 15 20 21 [25]
    # in class across Tết: 13/02 → 23/02 is 10 days but 1 working day; 06/02 → 27/02
    # 21 days, 10 working days (16–20 February off); and the ceremony-bound case's
    # 25/12/2025 → 06/01/2026, 12 days, 7 working days (1 January off)
    in_class = step(report["steps"], "in_class")["left"]
    assert in_class == {
        "count": 3,
        "days": {"median": 12, "p90": 21},
        "working_days": {"median": 7, "p90": 10},
    }


def test_each_child_organisation_has_its_own_figures(dataset: Dataset) -> None:
    report = dataset.report(dataset.province)
    assert {u["organisation_id"] for u in report["by_unit"]} == {
        dataset.dong_lo,
        dataset.bang_lung,
    }
    bang_lung = step(unit(report, dataset.bang_lung), "nominated")["left"]
    # 42 49 56 63 70, the transferred case (35) and the withdrawn one (28)
    assert bang_lung["count"] == 7
    assert bang_lung["days"] == {"median": 49, "p90": 70}
    expected = [
        rules.working_days_between(date(2026, 3, 2), date(2026, 3, 2) + timedelta(days=d))
        for d in BL_NOMINATED
    ] + [
        rules.working_days_between(MONDAY, date(2026, 2, 9)),
        rules.working_days_between(date(2026, 2, 2), date(2026, 3, 2)),
    ]
    assert bang_lung["working_days"] == {
        "median": reference(expected, 50),
        "p90": reference(expected, 90),
    }
    # one level down: the transferred case's stay is the receiving cell's
    cells = dataset.report(dataset.bang_lung)
    _, _, _, bl1, bl2 = dataset.cells
    assert step(unit(cells, bl1), "nominated")["left"]["count"] == 6
    assert step(unit(cells, bl2), "nominated")["left"] == {
        "count": 1,
        "days": {"median": 35, "p90": 35},
        "working_days": {"median": 25, "p90": 25},
    }
    assert step(cells["steps"], "nominated")["left"]["count"] == 7


def test_a_cell_is_its_own_subtree(dataset: Dataset) -> None:
    dl1 = dataset.cells[0]
    report = dataset.report(dl1)
    assert report["by_unit"][0]["name"] == durations.DIRECT
    assert step(report["steps"], "nominated")["left"]["count"] == 6  # 31/12 is out
    assert report["bottlenecks"] == []


def test_a_period_without_stays_has_no_figures(dataset: Dataset) -> None:
    report = dataset.report(dataset.province, date(2020, 1, 1), date(2020, 12, 31))
    assert all(s["left"]["count"] == 0 for s in report["steps"])
    assert step(report["steps"], "nominated")["left"]["days"] == {"median": None, "p90": None}
    assert all(s["waiting"]["count"] == 0 for s in report["steps"])  # none had entered


# ── the cases waiting now ─────────────────────────────────────────────────
def test_the_waiting_cases_their_age_and_the_overdue(dataset: Dataset) -> None:
    report = dataset.report(dataset.province)
    in_class = step(report["steps"], "in_class")["waiting"]
    # Đông Lỗ's seven and Bằng Lũng's six (five and the transferred case)
    assert in_class["count"] == 13
    assert in_class["max_days"] == (AS_OF - date(2025, 12, 31)).days == 181
    ages = [(AS_OF - on).days for _, on in dataset.in_class_dl] + [
        (AS_OF - date(2026, 3, 2) - timedelta(days=d)).days for d in BL_NOMINATED
    ]
    ages.append((AS_OF - date(2026, 2, 9)).days)
    assert in_class["median_days"] == reference(ages, 50)
    nominated = step(report["steps"], "nominated")["waiting"]
    assert nominated == {"count": 1, "median_days": 29, "max_days": 29, "past_deadline": 0}
    decided = step(report["steps"], "admission_decided")["waiting"]
    assert decided["count"] == 2 and decided["past_deadline"] == 1
    assert step(report["steps"], "class_passed")["waiting"] == {
        "count": 2,
        "median_days": (AS_OF - date(2026, 2, 27)).days,
        "max_days": (AS_OF - date(2026, 2, 23)).days,
        "past_deadline": 0,
    }
    assert step(unit(report, dataset.dong_lo), "admission_decided")["waiting"]["count"] == 2
    assert step(unit(report, dataset.bang_lung), "admission_decided")["waiting"]["count"] == 0


def test_a_period_with_too_many_stays_is_read_from_a_sample_and_says_so(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the sample sizes (lowered here to this small world's scale) the stays are
    read on every k-th end day, each counted k times, and the ages of every k-th
    waiting case: the notes say so; the waiting counts, the longest wait and the past
    deadlines stay exact."""
    exact = dataset.report(dataset.province)
    assert exact["sample"] == {"stays_every_days": 1, "waiting_every_cases": 1}
    monkeypatch.setattr(durations, "SAMPLE_STAYS", 3)
    monkeypatch.setattr(durations, "SAMPLE_WAITING", 4)
    sampled = dataset.report(dataset.province)
    stays_every, cases_every = sampled["sample"].values()
    assert stays_every > 1 and stays_every % 7 and cases_every > 1
    assert any(f"1 trong {stays_every} ngày" in note for note in sampled["notes"])
    assert any(f"1 trong {cases_every} hồ sơ" in note for note in sampled["notes"])
    for before, after in zip(exact["steps"], sampled["steps"], strict=True):
        assert after["left"]["count"] % stays_every == 0
        for figure in ("count", "max_days", "past_deadline"):
            assert after["waiting"][figure] == before["waiting"][figure]


def test_cases_that_entered_a_step_after_as_of_are_not_waiting(dataset: Dataset) -> None:
    with dataset.engine.session() as session:
        report = catalogue.compute(
            session, "step_durations", dataset.province, *H1, as_of=date(2026, 5, 31)
        )
    assert step(report["steps"], "nominated")["waiting"]["count"] == 0  # nominated 1 June
    assert step(report["steps"], "in_class")["waiting"]["max_days"] == 151


# ── bottlenecks ───────────────────────────────────────────────────────────
def test_the_bottlenecks_and_the_cases_behind_them(dataset: Dataset) -> None:
    bottlenecks = dataset.report(dataset.province)["bottlenecks"]
    assert [(b["state"], b["organisation_id"], b["reason"]) for b in bottlenecks] == [
        ("nominated", dataset.bang_lung, "duration"),
        ("in_class", dataset.dong_lo, "waiting"),
    ]
    slow, crowded = bottlenecks
    assert (slow["median_days"], slow["subtree_median_days"], slow["score"]) == (49, 30, 1.63)
    assert slow["score_text"] == "×1,63"
    assert [c["case_id"] for c in slow["cases"]] == [dataset.waiting_nominated_bl]
    assert slow["cases"][0]["days_waiting"] == 29 and slow["cases"][0]["cell"].startswith("Chi bộ")
    # 7 waiting against 13 / 2 per unit
    assert crowded["waiting"] == 7 and crowded["score"] == round(14 / 13, 2)
    longest = sorted(dataset.in_class_dl, key=lambda c: (c[1], c[0]))[: durations.CASES_SHOWN]
    assert [(c["case_id"], c["days_waiting"]) for c in crowded["cases"]] == [
        (case_id, (AS_OF - on).days) for case_id, on in longest
    ]
    assert all(c["full_name"] for c in crowded["cases"])


def test_one_slow_case_is_no_bottleneck() -> None:
    """A pair needs MIN_COUNT stays (or waiting cases) before its ratio counts."""
    from collections import Counter

    whole = durations.Cell(days=Counter({30: 40, 300: 1}))
    one = durations.Cell(days=Counter({300: 1}), waiting=Counter({200: 4}), waiting_count=4)
    assert durations._score(one, whole, 4) is None  # 1 stay, 4 waiting: too few
    few = durations.Cell(days=Counter({300: durations.MIN_COUNT}))
    assert durations._score(few, whole, 4) == (10, "duration")
    crowded = durations.Cell(days=Counter({30: 9}), waiting=Counter({5: 6}), waiting_count=6)
    subtree = durations.Cell(days=Counter({30: 9}), waiting=Counter({5: 8}), waiting_count=8)
    assert durations._score(crowded, subtree, 2) == (Fraction(12, 8), "waiting")
    assert durations._score(subtree, subtree, 1) is None  # the subtree itself: not above


# ── the tables ────────────────────────────────────────────────────────────
def test_the_tables_hold_the_figures(dataset: Dataset) -> None:
    report = dataset.report(dataset.province)
    left, waiting, by_unit, bottlenecks, cases = report["tables"]
    nominated = step(report["steps"], "nominated")["left"]
    assert left["rows"][0] == [
        "Được giới thiệu",
        15,
        30,
        63,
        nominated["working_days"]["median"],
        nominated["working_days"]["p90"],
    ]
    assert len(left["rows"]) == len(process.OPEN_STATES) == len(waiting["rows"])
    assert waiting["title"] == "Hồ sơ đang chờ ở từng bước đến ngày 30/06/2026"
    assert all(len(row) == len(by_unit["columns"]) for row in by_unit["rows"])
    assert [row[:4] for row in bottlenecks["rows"]] == [
        ["Được giới thiệu", "Đảng ủy thị trấn Bằng Lũng", "Thời gian giải quyết dài", "×1,63"],
        ["Đang học lớp nhận thức", "Đảng ủy xã Đông Lỗ", "Nhiều hồ sơ đang chờ", "×1,08"],
    ]
    assert len(cases["rows"]) == 1 + durations.CASES_SHOWN and cases["links"] == {"0": "case"}


# ── the statements stay flat as cases grow ────────────────────────────────
@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    target = engine.database.engine
    event.listen(target, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", count)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ketnap.db'}"
        return
    with temporary_database() as url:
        yield url


def test_the_statements_stay_flat_as_cases_grow(fresh_url: str) -> None:
    engine = new_engine(fresh_url, AS_OF)
    try:
        data = build(engine)
        with counted(engine) as few:
            before = data.report(data.province)
        dl1, *_ = data.cells
        for n in range(12):
            enrolled(engine, data.world, dl1, date(2026, 2, 2), date(2026, 2, 10) + timedelta(n))
        with counted(engine) as many:
            after = data.report(data.province)
    finally:
        engine.database.dispose()
    assert step(after["steps"], "nominated")["left"]["count"] == 15 + 12
    assert len(after["bottlenecks"]) >= len(before["bottlenecks"]) > 0
    assert len(many) == len(few) <= 9


# ── the page, the API, the CLI: every reader, and not a sponsor ───────────
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    engine = new_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'ketnap.db'}", AS_OF)
    build(engine)
    settings = {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    yield create_app(engine, Config(), SECRET_KEY="test", **settings)
    engine.database.dispose()


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
    assert answer.status_code == 302, username
    return client


QUERY = {"from": "01/01/2026", "to": "30/06/2026"}


@pytest.mark.parametrize("username", ["secretary", "officer", "auditor", "admin"])
def test_every_reader_gets_the_page_and_the_files(app: Flask, username: str) -> None:
    client = login(app, username)
    page = client.get("/reports/step_durations", query_string=QUERY)
    assert page.status_code == 200
    html = page.data.decode()
    assert "Thời gian giải quyết từng bước" in html and "<svg" in html
    assert re.search(r"<(svg|rect|text)[^>]*style=", html) is None  # the CSP: no inline style
    assert "<script" not in html.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "thứ hạng gần nhất" in html  # the percentile's definition, as a footnote
    figures = client.get("/api/v1/reports/step_durations", query_string=QUERY)
    assert figures.status_code == 200 and figures.json["name"] == "step_durations"
    as_csv = client.get("/api/v1/reports/step_durations.csv", query_string=QUERY)
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert as_csv.status_code == 200 and rows[0] == ["Thời gian giải quyết từng bước"]
    as_xlsx = client.get("/api/v1/reports/step_durations.xlsx", query_string=QUERY)
    book = load_workbook(io.BytesIO(as_xlsx.data))
    assert len(book.sheetnames) == 1 + len(figures.json["tables"])


def test_the_officer_page_shows_the_chart_and_links_the_cases(app: Flask) -> None:
    client = login(app, "officer-tinh")
    html = client.get("/reports/step_durations", query_string=QUERY).data.decode()
    figures = client.get("/api/v1/reports/step_durations", query_string=QUERY).json
    assert "Trung vị và P90 theo bước (ngày)" in html
    assert 'class="chart chart-durations"' in html and 'viewBox="0 0 390 ' in html
    for bottleneck in figures["bottlenecks"]:
        for case in bottleneck["cases"]:
            assert f'href="/cases/{case["case_id"]}"' in html
    nominated = step(figures["steps"], "nominated")
    assert nominated["left"]["days"] == {"median": 30, "p90": 63}
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get("/api/v1/reports/step_durations.csv", query_string=QUERY).data.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert next(r for r in csv_rows if r[:1] == ["Được giới thiệu"])[:4] == [
        "Được giới thiệu",
        "15",
        "30",
        "63",
    ]


def test_a_sponsor_reads_no_durations(app: Flask) -> None:
    sponsor = login(app, "sponsor")
    assert sponsor.get("/api/v1/reports/step_durations").status_code == 403
    assert sponsor.get("/api/v1/reports/step_durations.csv").status_code == 403
    assert sponsor.get("/api/v1/reports/step_durations.xlsx").status_code == 403
    assert sponsor.get("/reports/step_durations").status_code == 403


def test_the_terminal_prints_the_durations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ketnap.db'}"
    engine = new_engine(url, AS_OF)
    data = build(engine)
    engine.database.dispose()
    common = ["--org", str(data.province), "--from", "2026-01-01", "--to", "2026-06-30"]
    tail = ["--database", url, "--now", "2026-06-30"]

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["report", "step_durations", *common, *args, *tail])
        assert result.exit_code == 0, result.output
        return result.output

    assert "Hồ sơ đang chờ ở từng bước đến ngày 30/06/2026" in run()
    figures = json.loads(run("--format", "json"))
    assert step(figures["steps"], "nominated")["left"]["days"] == {"median": 30, "p90": 63}
    rows = list(csv.reader(io.StringIO(run("--format", "csv"))))
    first = next(r for r in rows if r[:1] == ["Được giới thiệu"])
    assert first[:4] == ["Được giới thiệu", "15", "30", "63"]
