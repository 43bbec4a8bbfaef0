"""The reports read from the monthly tallies say, byte for byte, what they say counted
from "case": admissions (with targets whose windows cut months), the breakdown, and
confirmations and removals, for the district, its communes, a cell, and a commune with
a case of its own, over periods of whole months, cut months, a day, a decade — on
generated new members with every kind of key (blank and padded ethnicities, religions
spelled as "none", ages on their birthday), after transfers, corrections, ceremonies
moved and undone, removals and deletes.

Fixture rows bypass the engine (tests/reports/conftest.py); the triggers keep the tally
whatever writes the rows (tests/engine/test_ceremony_tally.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from tests.reports.conftest import TODAY, Admitted, add_rows, add_tree, new_engine
from workflow.engine import Engine
from workflow.models import AdmissionTarget, Organisation
from workflow.reports.admissions import admissions
from workflow.reports.breakdown import KEYS, breakdown
from workflow.reports.confirmations import confirmations
from workflow.reports.period import period
from workflow.reports.scope import subtree_of
from workflow.reports.sql import ceremony_keys, split

Report = Callable[..., dict[str, Any]]
REPORTS: dict[str, Report] = {
    "admissions": admissions,
    "breakdown": breakdown,
    "confirmations": confirmations,
}
PERIODS = (
    (date(2016, 7, 1), TODAY),  # a decade of whole months
    (date(2016, 6, 30), date(2026, 6, 29)),  # a decade cut at both ends
    (date(2023, 1, 1), date(2025, 12, 31)),
    (date(2024, 2, 1), date(2024, 2, 29)),  # a leap February
    (date(2024, 2, 29), date(2024, 3, 31)),
    (date(2023, 3, 31), date(2025, 10, 1)),  # one day of each cut month
    (date(2024, 3, 15), date(2024, 3, 20)),  # no whole month
    (date(2024, 1, 31), date(2024, 1, 31)),
    (date(2019, 1, 1), date(2019, 12, 31)),  # before any ceremony
)
ETHNICITIES = ("Kinh", "kinh", " Tày ", "Tày", "Nùng", "", None, "Sán Dìu")
RELIGIONS = (None, "", "Không", "khong", "none", "Phật giáo", " Công giáo")
EDUCATIONS = (None, "", "12/12", "9/12", " 12/12 ")
OCCUPATIONS = ("farmer", "worker", "village_head", "village_deputy", "hamlet_leader", "student")


@dataclass
class Data:
    engine: Engine
    orgs: dict[str, Organisation]


def _attributes(rng: random.Random, ceremony: date) -> Admitted:
    return Admitted(
        gender=rng.choice(("male", "female")),
        youth_union_member=rng.random() < 0.4,
        ethnicity=rng.choice(ETHNICITIES),  # type: ignore[arg-type]
        religion=rng.choice(RELIGIONS),
        education=rng.choice(EDUCATIONS),
        occupation=rng.choice((*OCCUPATIONS, "unknown_job")),
        age=rng.choice((16, 17, 18, 30, 31, 40, 41, 55, 60, 61, 70)),
        official_on=ceremony + timedelta(days=365) if rng.random() < 0.5 else None,
    )


def _ceremony_days(rng: random.Random, count: int) -> list[date]:
    edges = [date(2023, 3, 31), date(2024, 2, 29), date(2024, 3, 1), date(2025, 10, 1)]
    first = date(2022, 11, 1)
    days = [first + timedelta(days=rng.randrange(1330)) for _ in range(count)]
    return days + edges * 3


def _build(url: str) -> Data:
    engine = new_engine(url)
    rng = random.Random(13)
    with engine.session() as session:
        orgs = add_tree(session, "Huyện ủy Tân Yên", communes=3)
        for key, org in list(orgs.items()):
            session.refresh(org)
            orgs[key] = org
        cells = [org for key, org in orgs.items() if key.startswith("cell")]
        for cell in cells:
            add_rows(session, cell, [(d, _attributes(rng, d)) for d in _ceremony_days(rng, 60)])
        # a case at a commune's own path (a cell directly under nothing else)
        add_rows(
            session, orgs["commune2"], [(d, _attributes(rng, d)) for d in _ceremony_days(rng, 9)]
        )
        _birthdays(session, rng)
        _targets(session, orgs)
        _change(session, orgs, rng)
    return Data(engine, orgs)


def _birthdays(session: Session, rng: random.Random) -> None:
    """Some new members born on the ceremony's day and month (their birthday: a year
    older that day), or the day after (not yet), at the bands' edges."""
    rows = session.execute(
        text('SELECT person_id, ceremony_on FROM "case" WHERE ceremony_on IS NOT NULL')
    ).all()
    for person_id, ceremony in rng.sample(list(rows), len(rows) // 3):
        day = ceremony if isinstance(ceremony, date) else date.fromisoformat(ceremony)
        age = rng.choice((18, 31, 41, 51, 61))
        born = day.replace(year=day.year - age, day=28 if day.month == 2 else day.day)
        born += timedelta(days=rng.choice((0, 1)))
        session.execute(
            text("UPDATE person SET birth_date = :born WHERE id = :id"),
            {"born": born, "id": person_id},
        )
    session.commit()


def _targets(session: Session, orgs: dict[str, Organisation]) -> None:
    targets = [
        (orgs["district"], "year", date(2024, 1, 1), date(2024, 12, 31), 300),
        (orgs["district"], "resolution", date(2023, 3, 15), date(2025, 9, 10), 700),
        (orgs["district"], "congress_term", date(2020, 10, 1), date(2025, 9, 30), 900),
        (orgs["commune1"], "year", date(2025, 1, 1), date(2025, 12, 31), 40),
        (orgs["commune2"], "resolution", date(2024, 2, 29), date(2026, 2, 28), 60),
    ]
    for org, kind, start, end, number in targets:
        assert org.id is not None
        session.add(
            AdmissionTarget(
                organisation_id=org.id,
                kind=kind,
                period_start=start,
                period_end=end,
                number=number,
            )
        )
    session.commit()


def _change(session: Session, orgs: dict[str, Organisation], rng: random.Random) -> None:
    """Transfers, corrections, ceremonies moved and undone, removals and deletes."""
    ids = list(session.execute(text('SELECT id FROM "case" ORDER BY id')).scalars())
    picked = rng.sample(ids, 120)
    target = orgs["cell3.2"]
    moved, corrected, redated, undone, removed, deleted = (picked[i::6] for i in range(6))
    statements: list[tuple[str, dict[str, Any]]] = [
        (
            'UPDATE "case" SET org_path = :path, cell_id = :cell WHERE id = :id',
            {"path": target.path, "cell": target.id},
        ),
        (
            "UPDATE person SET ethnicity = 'Dao', birth_date = :born, gender = 'female', "
            "occupation = 'other' WHERE id = (SELECT person_id FROM \"case\" WHERE id = :id)",
            {"born": date(2001, 3, 1)},
        ),
        ('UPDATE "case" SET ceremony_on = :day WHERE id = :id', {"day": date(2024, 3, 1)}),
        ('UPDATE "case" SET ceremony_on = NULL WHERE id = :id', {}),
        (
            "UPDATE \"case\" SET state = 'removed', closed_on = :day, open = :no WHERE id = :id",
            {"day": date(2025, 5, 5), "no": False},
        ),
        ('DELETE FROM "case" WHERE id = :id', {}),
    ]
    for group, (statement, values) in zip(
        (moved, corrected, redated, undone, removed, deleted), statements, strict=True
    ):
        for case_id in group:
            session.execute(text(statement), {**values, "id": case_id})
    session.commit()


@pytest.fixture(scope="module")
def data(database_url: str) -> Iterator[Data]:
    built = _build(database_url)
    yield built
    built.engine.database.dispose()


def both_ways(data: Data, name: str, org: str, start: date, end: date) -> tuple[str, str]:
    with data.engine.session() as session:
        tree = subtree_of(session, data.orgs[org])
        span = period(start, end, TODAY)
        tallied = REPORTS[name](session, tree, span, tallies=True)
        counted = REPORTS[name](session, tree, span, tallies=False)
    return json.dumps(tallied, ensure_ascii=False), json.dumps(counted, ensure_ascii=False)


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("org", ["district", "commune1", "commune2", "cell1.1"])
def test_the_tallies_give_the_reports_byte_for_byte(data: Data, name: str, org: str) -> None:
    for start, end in PERIODS:
        tallied, counted = both_ways(data, name, org, start, end)
        assert tallied == counted, (name, org, start, end)


def test_the_fixture_has_what_the_tallies_must_get_right(data: Data) -> None:
    """Not an empty comparison: the decade holds hundreds of ceremonies, minorities,
    several age bands, a case at a commune's own path, targets cut mid-month,
    confirmations and removals."""
    tallied, _ = both_ways(data, "breakdown", "district", *PERIODS[1])
    result = json.loads(tallied)
    assert result["admitted"] > 300
    assert len(result["by_ethnicity"]) >= 4 and len(result["by_age_band"]) == 6
    own, _ = both_ways(data, "admissions", "commune2", *PERIODS[0])
    assert any(u["organisation_id"] is None for u in json.loads(own)["by_unit"])
    targets, _ = both_ways(data, "admissions", "district", *PERIODS[0])
    resolution = next(t for t in json.loads(targets)["targets"] if t["kind"] == "resolution")
    assert resolution["counted_from"] == "2023-03-15" and resolution["admitted"] > 0
    outcomes, _ = both_ways(data, "confirmations", "district", *PERIODS[1])
    assert json.loads(outcomes)["confirmed"] > 100 and json.loads(outcomes)["removed"] > 10


def test_the_reports_do_read_the_tallies(data: Data) -> None:
    """A count changed in the tallies alone changes each report read from them, not the
    ones counted from "case" (rolled back after)."""
    start, end = PERIODS[2]
    span = period(start, end, TODAY)
    with data.engine.session() as session:
        district = subtree_of(session, data.orgs["district"])
        assert ceremony_keys(session, district.path, split(span).months, KEYS)
        honest = [json.dumps(r(session, district, span)) for r in REPORTS.values()]
        for table in ("ceremony_tally", "outcome_tally"):
            session.execute(
                text(f"UPDATE {table} SET n = n + 1 WHERE org_path = :path AND month = :month"),
                {"path": district.path, "month": 2024 * 12 + 5},
            )
        bent = [json.dumps(r(session, district, span)) for r in REPORTS.values()]
        counted = [json.dumps(r(session, district, span, tallies=False)) for r in REPORTS.values()]
        session.rollback()
    assert all(b != h for b, h in zip(bent, honest, strict=True))
    assert counted == honest
