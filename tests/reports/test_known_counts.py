"""The six reports on a dataset whose true counts are known by construction, for several
subtrees and periods (empty ones included), on SQLite and on PostgreSQL.

Seven cases are walked through the engine (their dates follow from demo.PATH's gaps);
fifty more are fixture rows that bypass the engine (see conftest) to give the counts
some mass. Targets, classes and villages are recorded through their real modules.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.reports.conftest import (
    ADMIN,
    NOW,
    TODAY,
    Admitted,
    add_admitted,
    days_to,
    new_engine,
    walk_to,
)
from workflow import process
from workflow.directory import classes, targets, villages
from workflow.engine import Engine
from workflow.models import Case, Organisation
from workflow.ops import demo
from workflow.ops.demo import World
from workflow.reports import catalogue

PROBATION = days_to("probationary")  # nomination → ceremony on the scripted path
OFFICIAL = days_to("official")  # nomination → the confirming decision


@dataclass
class Dataset:
    engine: Engine
    world: World
    province: int
    dong_lo: int
    bang_lung: int
    cells: list[int]  # DL1, DL2, DL3, BL1, BL2

    def report(self, name: str, org: int, start: date, end: date) -> dict[str, Any]:
        with self.engine.session() as session:
            return catalogue.compute(session, name, org, start, end, as_of=TODAY)


def _org_id(session: Session, name: str) -> int:
    org = session.exec(select(Organisation).where(Organisation.name == name)).one()
    assert org.id is not None
    return org.id


def _build(engine: Engine) -> Dataset:
    with engine.session() as session:
        world = demo.build_world(session, random.Random(5))
        data = Dataset(
            engine,
            world,
            _org_id(session, "Đảng bộ tỉnh Bắc Giang"),
            _org_id(session, "Đảng ủy xã Đông Lỗ"),
            _org_id(session, "Đảng ủy thị trấn Bằng Lũng"),
            world.cell_ids,
        )
    dl1, dl2, dl3, bl1, bl2 = data.cells
    # ── through the engine ────────────────────────────────────────────────
    walk_to(engine, world, dl1, date(2024, 1, 10), "official", gender="female", occupation="farmer")
    walk_to(
        engine,
        world,
        dl1,
        date(2025, 2, 1),
        "probationary",
        occupation="worker",
        birth_date="1995-06-01",
        ethnicity="Tày",
        religion="Phật giáo",
    )
    removed = walk_to(
        engine,
        world,
        dl2,
        date(2025, 3, 1),
        "probationary",
        gender="female",
        occupation="student",
        birth_date="2005-01-01",
    )
    with engine.session() as session:
        version = session.get(Case, removed).version  # type: ignore[union-attr]
    engine.advance(
        removed,
        "remove",
        {"decision_no": "15-QĐ/ĐU", "reason": "Vi phạm tư cách đảng viên"},
        world.authority_officer[dl2],
        version,
        on="2026-01-15",
    )
    walk_to(engine, world, bl1, date(2024, 6, 1), "official", occupation="civil_servant")
    walk_to(engine, world, bl1, date(2025, 10, 1), "verified", occupation="armed_forces")
    walk_to(engine, world, bl1, date(2026, 6, 1), "nominated")
    walk_to(engine, world, dl3, date(2025, 6, 1), "admission_decided")
    # ── FIXTURE ROWS (bypass the engine): 40 in Đông Lỗ's first cell, 10 in Bằng Lũng ──
    with engine.session() as session:
        cell = session.get(Organisation, dl1)
        assert cell is not None
        early = date(2024, 1, 15)
        for month in (1, 3, 6, 12):
            day = date(2025, month, 10)
            add_admitted(session, cell, day, 3, Admitted("female", True, nominated_on=early))
            add_admitted(
                session, cell, day, 3, Admitted("female", True, "Nùng", nominated_on=early)
            )
            add_admitted(
                session,
                cell,
                day,
                4,
                Admitted(
                    "male",
                    month != 12,
                    occupation="public_employee" if month < 6 else "student",
                    age=35 if month in (1, 12) else 25,
                    nominated_on=early,
                ),
            )
        other = session.get(Organisation, bl2)
        assert other is not None
        add_admitted(
            session,
            other,
            date(2024, 5, 20),
            10,
            Admitted(official_on=date(2025, 5, 20), nominated_on=early),
        )
    _targets_classes_villages(engine, data)
    return data


def _targets_classes_villages(engine: Engine, data: Dataset) -> None:
    with engine.session() as session:
        for spec in (
            {"organisation_id": data.province, "kind": "year", "year": 2025, "number": 60},
            {
                "organisation_id": data.province,
                "kind": "resolution",
                "period_start": "2021-01-01",
                "period_end": "2025-12-31",
                "number": 200,
                "ref": "Nghị quyết số 05-NQ/TU",
            },
            {
                "organisation_id": data.province,
                "kind": "congress_term",
                "period_start": "2020-10-01",
                "period_end": "2025-09-30",
                "number": 150,
            },
            {"organisation_id": data.dong_lo, "kind": "year", "year": 2025, "number": 45},
        ):
            targets.set_target(session, ADMIN, targets.parse(spec), NOW)
        recorded = classes.parse(
            {
                "kind": "awareness",
                "name": "Lớp nhận thức khóa I/2025",
                "issuer": "Trung tâm Chính trị",
                "organisation_id": data.dong_lo,
                "starts_on": "2025-04-10",
                "ends_on": "2025-04-14",
                "attendees": 45,
            }
        )
        classes.record_class(session, ADMIN, recorded, NOW)
        v1, v2, v3 = (
            villages.add_village(
                session, ADMIN, {"organisation_id": data.dong_lo, "name": name}, now=NOW
            )
            for name in ("Thôn Hương Câu", "Thôn Trung Hưng", "Thôn Đông Lỗ")
        )
        villages.record_census(
            session, ADMIN, v1.id or 0, {"counted_on": "2024-12-31", "party_members": 12}, now=NOW
        )
        villages.record_census(
            session, ADMIN, v2.id or 0, {"counted_on": "2024-12-31", "party_members": 0}, now=NOW
        )
        villages.record_census(
            session, ADMIN, v2.id or 0, {"counted_on": "2025-11-01", "party_members": "2"}, now=NOW
        )
        term = {"starts_on": "2021-01-01"}
        for village, role, name, extra in (
            (v1, "head", "Nguyễn Văn An", {"party_member_since": "2010-05-19"}),
            (v2, "head", "Trần Văn Bình", {"party_member_since": "2025-09-24"}),
            (v3, "head", "Lê Văn Cường", {"ends_on": "2025-06-30"}),
            (v3, "head", "Phạm Văn Dũng", {"starts_on": "2025-07-01"}),
            (v1, "deputy", "Hoàng Thị Em", {"party_member_since": "2015-02-03"}),
            (v2, "deputy", "Vũ Văn Phúc", {}),
        ):
            payload = {"role": role, "full_name": name, **term, **extra}
            villages.add_official(session, ADMIN, village.id or 0, payload, now=NOW)


@pytest.fixture(scope="module")
def dataset(database_url: str) -> Iterator[Dataset]:
    engine = new_engine(database_url)
    yield _build(engine)
    engine.database.dispose()


YEAR_2024 = (date(2024, 1, 1), date(2024, 12, 31))
YEAR_2025 = (date(2025, 1, 1), date(2025, 12, 31))
EMPTY = (date(2019, 1, 1), date(2019, 12, 31))


# ── 1. admissions ─────────────────────────────────────────────────────────
def test_admissions_count_the_ceremonies_of_the_subtree_in_the_period(dataset: Dataset) -> None:
    dl1, dl2, _, _bl1, bl2 = dataset.cells
    assert dataset.report("admissions", dataset.province, *YEAR_2024)["admitted"] == 12
    assert dataset.report("admissions", dataset.province, *YEAR_2025)["admitted"] == 42
    assert dataset.report("admissions", dataset.dong_lo, *YEAR_2025)["admitted"] == 42
    assert dataset.report("admissions", dataset.bang_lung, *YEAR_2025)["admitted"] == 0
    assert dataset.report("admissions", dataset.bang_lung, *YEAR_2024)["admitted"] == 11
    assert dataset.report("admissions", dl1, *YEAR_2025)["admitted"] == 41
    assert dataset.report("admissions", dl2, *YEAR_2025)["admitted"] == 1
    assert dataset.report("admissions", bl2, *YEAR_2024)["admitted"] == 10
    june = dataset.report("admissions", dl1, date(2025, 6, 1), date(2025, 6, 30))
    assert june["admitted"] == 10
    ceremony = date(2024, 1, 10) + timedelta(days=PROBATION)
    on_the_day = dataset.report("admissions", dataset.province, ceremony, ceremony)
    assert on_the_day["admitted"] == 1


def test_admissions_per_month_and_unit_add_up(dataset: Dataset) -> None:
    report = dataset.report("admissions", dataset.province, *YEAR_2025)
    months = {m["month"]: m["admitted"] for m in report["by_month"]}
    assert len(months) == 12
    assert months["2025-01"] == 10 and months["2025-03"] == 10 and months["2025-06"] == 10
    assert months["2025-12"] == 10
    assert sum(months.values()) == 42
    assert report["by_month"][-1]["admitted_cumulative"] == 42
    units = {u["name"]: u["admitted"] for u in report["by_unit"]}
    assert units == {"Đảng ủy xã Đông Lỗ": 42, "Đảng ủy thị trấn Bằng Lũng": 0}


def test_each_applicable_target_gets_its_percentage(dataset: Dataset) -> None:
    report = dataset.report("admissions", dataset.province, *YEAR_2025)
    by_kind = {row["kind"]: row for row in report["targets"]}
    assert by_kind["year"]["number"] == 60 and by_kind["year"]["text"] == "70,0%"
    # a resolution counts from its own start (2021), cumulative: 2024's 12 and 2025's 42
    assert by_kind["resolution"]["admitted"] == 54
    assert by_kind["resolution"]["text"] == "27,0%"  # 54 of 200
    assert by_kind["resolution"]["counted_from"] == "2021-01-01"
    # a congress term counts over its own span (October 2020 to September 2025)
    term = dataset.report("admissions", dataset.province, date(2020, 10, 1), date(2025, 9, 30))
    assert by_kind["congress_term"]["admitted"] == term["admitted"]
    assert by_kind["congress_term"]["counted_to"] == "2025-09-30"
    two_years = dataset.report("admissions", dataset.province, YEAR_2024[0], YEAR_2025[1])
    rows = {(r["kind"], r["label"]): r for r in two_years["targets"]}
    assert rows[("year", "năm 2024")]["text"] == "—"
    assert rows[("year", "năm 2025")]["admitted"] == 42
    assert rows[("resolution", "Nghị quyết số 05-NQ/TU")]["text"] == "27,0%"  # 54 of 200
    dong_lo = next(u for u in report["by_unit"] if u["name"] == "Đảng ủy xã Đông Lỗ")
    assert [(t["number"], t["text"]) for t in dong_lo["targets"]] == [(45, "93,3%")]


def test_a_target_does_not_depend_on_the_reports_first_day(dataset: Dataset) -> None:
    """A report from October still measures the year's target against the whole year,
    and a resolution's from the resolution's start (issue: targets over their own period)."""
    autumn = dataset.report("admissions", dataset.province, date(2025, 10, 1), YEAR_2025[1])
    whole = dataset.report("admissions", dataset.province, *YEAR_2025)
    assert autumn["admitted"] < whole["admitted"]  # the flows follow the report's period
    for kind in ("year", "resolution"):
        of_autumn = next(r for r in autumn["targets"] if r["kind"] == kind)
        of_year = next(r for r in whole["targets"] if r["kind"] == kind)
        assert (of_autumn["admitted"], of_autumn["text"]) == (of_year["admitted"], of_year["text"])


def test_no_target_and_no_admission_print_a_dash_not_an_error(dataset: Dataset) -> None:
    report = dataset.report("admissions", dataset.bang_lung, *YEAR_2025)
    assert {row["text"] for row in report["targets"]} == {"—"}
    assert all(row["percent"] is None for row in report["targets"])
    empty = dataset.report("admissions", dataset.province, *EMPTY)
    assert empty["admitted"] == 0
    assert empty["by_unit"][0]["share"] is None


# ── 2. breakdown ──────────────────────────────────────────────────────────
def test_breakdown_counts_each_group_of_the_new_members(dataset: Dataset) -> None:
    report = dataset.report("breakdown", dataset.dong_lo, *YEAR_2025)
    assert report["admitted"] == 42
    assert report["women"]["count"] == 24 + 1  # fixture women + the engine's removed student
    assert report["youth_union"]["count"] == 24 + 12
    assert report["ethnic_minorities"]["count"] == 12 + 1  # Nùng rows + the Tày worker
    assert report["ethnic_minorities"]["text"] == "31,0%"
    occupations = {row["key"]: row["count"] for row in report["by_occupation"]}
    assert occupations["farmer"] == 24
    assert occupations["public_employee"] == 8 and occupations["student"] == 8 + 1
    assert occupations["worker"] == 1 and occupations["armed_forces"] == 0
    assert sum(occupations.values()) == 42
    assert {r["key"]: r["count"] for r in report["by_ethnicity"]} == {"Nùng": 12, "Tày": 1}
    assert {r["key"]: r["count"] for r in report["by_religion"]} == {"Không": 41, "Phật giáo": 1}


def test_age_band_is_the_age_on_the_ceremony_day(dataset: Dataset) -> None:
    report = dataset.report("breakdown", dataset.dong_lo, *YEAR_2025)
    bands = {row["key"]: row["count"] for row in report["by_age_band"]}
    assert bands["31–40"] == 8  # the 35-year-olds of January and December
    assert bands["18–30"] == 24 + 8 + 2  # fixture rows, the worker (30), the student (20)
    assert sum(bands.values()) == 42


def test_an_empty_breakdown_divides_by_nothing(dataset: Dataset) -> None:
    report = dataset.report("breakdown", dataset.province, *EMPTY)
    assert report["admitted"] == 0
    assert report["women"] == {"count": 0, "whole": 0, "percent": None, "text": "—"}
    assert all(row["percent"] is None for row in report["by_occupation"])


# ── 3. confirmations and removals ─────────────────────────────────────────
def test_confirmations_count_the_official_date_not_the_decision(dataset: Dataset) -> None:
    report = dataset.report("confirmations", dataset.province, *YEAR_2025)
    # probation end of the two walked cases (2025-08 and 2025-12) + 10 fixture rows
    assert report["confirmed"] == 12
    assert report["removed"] == 0
    bang_lung = dataset.report("confirmations", dataset.bang_lung, *YEAR_2025)
    assert bang_lung["confirmed"] == 11
    removal_year = dataset.report("confirmations", dataset.province, date(2026, 1, 1), TODAY)
    assert (removal_year["confirmed"], removal_year["removed"]) == (0, 1)
    units = {u["name"]: u["removed"] for u in removal_year["by_unit"]}
    assert units == {"Đảng ủy xã Đông Lỗ": 1, "Đảng ủy thị trấn Bằng Lũng": 0}


def test_probationary_members_past_their_probation_are_flagged(dataset: Dataset) -> None:
    report = dataset.report("confirmations", dataset.dong_lo, date(2026, 1, 1), TODAY)
    # the fixture rows of January–June 2025 have passed their 12 months by 30/06/2026
    assert report["awaiting_after_probation"] == 30


# ── 4. classes ────────────────────────────────────────────────────────────
def test_classes_count_engine_enrolments_and_recorded_headcounts(dataset: Dataset) -> None:
    report = dataset.report("classes", dataset.province, *YEAR_2025)
    kinds = {k["kind"]: k for k in report["by_kind"]}
    # engine: one awareness class per enrolment month (02, 03, 06, 10/2025), created at
    # the district (the province here: no committee below it); one recorded
    assert kinds["awareness"]["classes"] == 5
    assert kinds["awareness"]["attendees"] == 4 + 45
    assert kinds["awareness"]["candidates_of_subtree"] == 4
    assert (kinds["theory"]["classes"], kinds["theory"]["attendees"]) == (1, 1)
    bang_lung = dataset.report("classes", dataset.bang_lung, *YEAR_2025)
    # the town's candidates went to the district's classes: it held none of its own
    assert {
        k["kind"]: (k["classes"], k["candidates_of_subtree"]) for k in bang_lung["by_kind"]
    } == {
        "awareness": (0, 1),
        "theory": (0, 1),
    }
    empty = dataset.report("classes", dataset.province, *EMPTY)
    assert [k["classes"] for k in empty["by_kind"]] == [0, 0]
    assert empty["classes"] == []


# ── 5. pipeline ───────────────────────────────────────────────────────────
def test_pipeline_counts_open_cases_per_state(dataset: Dataset) -> None:
    report = dataset.report("pipeline", dataset.province, *YEAR_2025)
    states = {row["state"]: row["cases"] for row in report["by_state"]}
    assert list(states) == list(process.OPEN_STATES)  # every open state, in order
    assert states["probationary"] == 41 and states["verified"] == 1
    assert states["nominated"] == 1 and states["admission_decided"] == 1
    assert report["open"] == 44
    bang_lung = dataset.report("pipeline", dataset.bang_lung, *YEAR_2025)
    assert bang_lung["open"] == 2


def test_overdue_deadlines_are_counted_per_deadline(dataset: Dataset) -> None:
    report = dataset.report("pipeline", dataset.province, *YEAR_2025)
    # judged on the period's end: the decided case's ceremony (due 01/2026) is not late yet
    overdue = {d["deadline"]: d["overdue"] for d in report["overdue_by_deadline"]}
    assert sum(overdue.values()) == 0
    now = dataset.report("pipeline", dataset.province, date(2026, 1, 1), TODAY)
    overdue = {d["deadline"]: d["overdue"] for d in now["overdue_by_deadline"]}
    assert overdue["ceremony"] == 1 and overdue["theory_class"] == 1
    assert sum(overdue.values()) == 2 and now["overdue_cases"] == 2


def test_pipeline_flow_counts_cases_opened_and_closed_in_the_period(dataset: Dataset) -> None:
    report = dataset.report("pipeline", dataset.province, *YEAR_2025)
    assert report["nominated_in_period"] == 4
    closed = {row["state"]: row["cases"] for row in report["closed_in_period"]}
    first_confirmed = date(2024, 1, 10) + timedelta(days=OFFICIAL)
    assert first_confirmed.year == 2025
    assert closed == {"official": 1 + 10, "rejected": 0, "withdrawn": 0, "removed": 0}


# ── 6. villages ───────────────────────────────────────────────────────────
def test_villages_at_the_two_ends_of_the_period(dataset: Dataset) -> None:
    report = dataset.report("villages", dataset.province, *YEAR_2025)
    first, last = report["at"]
    assert (first["villages"], first["without_member"], first["unknown"]) == (3, 1, 1)
    assert (last["villages"], last["without_member"], last["unknown"]) == (3, 0, 1)
    assert (first["heads"]["total"], first["heads"]["members"]) == (3, 1)
    assert first["heads"]["text"] == "33,3%"
    assert (last["heads"]["total"], last["heads"]["members"]) == (3, 2)
    assert last["heads"]["text"] == "66,7%"
    assert first["deputies"]["text"] == last["deputies"]["text"] == "50,0%"
    # 1 of 3 → 2 of 3: exactly 33,33 points (not 66,7 − 33,3 = 33,4, rounded twice)
    assert report["change"] == {"heads_points": 33.33, "deputies_points": 0.0, "without_member": -1}
    assert report["without_member_names"] == []
    start = dataset.report("villages", dataset.province, date(2025, 1, 1), date(2025, 1, 1))
    assert start["without_member_names"] == [
        {"name": "Thôn Trung Hưng", "organisation": "Đảng ủy xã Đông Lỗ"}
    ]


def test_villages_of_another_subtree_are_not_counted(dataset: Dataset) -> None:
    report = dataset.report("villages", dataset.bang_lung, *YEAR_2025)
    assert [m["villages"] for m in report["at"]] == [0, 0]
    assert report["at"][0]["heads"]["text"] == "—"
    assert report["change"]["heads_points"] is None


# ── every report, every subtree, the empty period ─────────────────────────
@pytest.mark.parametrize("name", catalogue.NAMES)
def test_every_report_answers_for_every_subtree_and_an_empty_period(
    dataset: Dataset, name: str
) -> None:
    for org in (dataset.province, dataset.dong_lo, dataset.bang_lung, *dataset.cells):
        for period in (YEAR_2025, EMPTY):
            report = dataset.report(name, org, *period)
            assert report["name"] == name and report["organisation"]["id"] == org
            assert report["tables"]
            for table in report["tables"]:
                assert all(len(row) == len(table["columns"]) for row in table["rows"])


# ── the age band, as each database computes it ────────────────────────────
def test_the_age_band_on_the_ceremony_day_is_the_same_on_every_database(
    dataset: Dataset,
) -> None:
    """Boundaries (17/18, 30/31, …, 60/61) the day before, on and after the birthday."""
    from sqlalchemy import Date, literal, select, union_all

    from workflow.reports.categories import AGE_BANDS
    from workflow.reports.sql import AgeBand

    pairs = []
    for age in (5, 17, 18, 30, 31, 40, 41, 50, 51, 60, 61, 90):
        birth = date(2025 - age, 6, 15)
        for on in (date(2025, 6, 14), date(2025, 6, 15), date(2025, 6, 16)):
            pairs.append((birth, on))
    rows = union_all(
        *(
            select(literal(n).label("n"), literal(b, Date).label("b"), literal(d, Date).label("d"))
            for n, (b, d) in enumerate(pairs)
        )
    ).subquery()
    query = select(AgeBand(rows.c.b, rows.c.d)).order_by(rows.c.n)
    with dataset.engine.session() as session:
        bands = [AGE_BANDS[int(index)][2] for index in session.execute(query).scalars()]

    def expected(birth: date, on: date) -> str:
        age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
        return next(label for low, high, label in AGE_BANDS if high is None or age <= high)

    assert bands == [expected(birth, on) for birth, on in pairs]
