"""Fixtures of the report tests: migrated databases (SQLite file, real PostgreSQL), the
demo organisation tree, cases walked through the engine, and — for large counts —
FIXTURE ROWS.

Fixture rows (`add_admitted`) write Person and Case rows directly and so BYPASS THE
ENGINE. That is allowed in these tests only, to give the reports thousands of cases with
exactly known dates and attributes; the application itself never writes a Case row
outside `engine.nominate/advance`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlmodel import Session, col

from tests.support.postgres import temporary_database
from workflow import db, rules
from workflow.access import Actor
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.engine import Engine
from workflow.models import Case, Organisation, Person
from workflow.ops import demo
from workflow.ops.demo import World

TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 2, 0)
ADMIN = Actor("admin", "admin", None, "")


def new_engine(url: str, today: date = TODAY) -> Engine:
    database = db.connect(url)
    db.migrate(database)
    return Engine(database, RuleParameters(), FixedClock.on(today))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per test module and backend: the reports' SQL must run on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('reports') / 'ketnap.db'}"
        return
    with temporary_database() as url:
        yield url


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = new_engine(f"sqlite:///{tmp_path / 'ketnap.db'}")
    yield engine
    engine.database.dispose()


# ── an organisation tree of our own (for the seed-article datasets) ───────
def add_tree(session: Session, district: str, communes: int = 2) -> dict[str, Organisation]:
    """A district committee, `communes` grassroots committees with two cells each."""
    top = demo.add_organisation(session, district, "committee", None, True)
    tree = {"district": top}
    for n in range(1, communes + 1):
        commune = demo.add_organisation(
            session, f"Đảng ủy xã số {n}", "grassroots_committee", top, True
        )
        tree[f"commune{n}"] = commune
        for m in (1, 2):
            tree[f"cell{n}.{m}"] = demo.add_organisation(
                session, f"Chi bộ thôn {n}.{m}", "cell", commune
            )
    session.commit()
    return tree


# ── FIXTURE ROWS: they bypass the engine (tests only) ─────────────────────
@dataclass
class Admitted:
    """Attributes of a batch of admitted candidates written as fixture rows."""

    gender: str = "male"
    youth_union_member: bool = False
    ethnicity: str = "Kinh"
    religion: str | None = None
    education: str | None = "12/12"
    occupation: str = "farmer"
    age: int = 25  # full years on the ceremony day
    official_on: date | None = None  # confirmed as official on this day
    removed_on: date | None = None
    nominated_on: date | None = None


def add_admitted(
    session: Session, cell: Organisation, ceremony_on: date, count: int, batch: Admitted
) -> None:
    """`count` candidates of `cell` whose ceremony was held on `ceremony_on` (no engine)."""
    add_rows(session, cell, [(ceremony_on, batch)] * count)


def add_rows(session: Session, cell: Organisation, rows: list[tuple[date, Admitted]]) -> None:
    """One admitted candidate per (ceremony date, attributes), in two bulk inserts."""
    assert cell.id is not None
    persons = [
        {
            "full_name": f"Fixture {cell.id}-{n}-{ceremony_on}",
            "birth_date": date(ceremony_on.year - batch.age, 1, 1),  # `age` years on the day
            "gender": batch.gender,
            "ethnicity": batch.ethnicity,
            "religion": batch.religion,
            "education": batch.education,
            "occupation": batch.occupation,
            "village": None,
            "youth_union_member": batch.youth_union_member,
            "trade_union_member": False,
            "national_id": None,
        }
        for n, (ceremony_on, batch) in enumerate(rows)
    ]
    if not persons:
        return
    ids = session.execute(
        insert(Person).returning(col(Person.id), sort_by_parameter_order=True), persons
    ).scalars()
    cases = [_case(cell, person_id, *row) for person_id, row in zip(ids, rows, strict=True)]
    session.execute(insert(Case), cases)
    session.commit()


def _case(cell: Organisation, person_id: int, ceremony_on: date, batch: Admitted) -> dict[str, Any]:
    state, closed = "probationary", None
    if batch.official_on:
        state, closed = "official", batch.official_on
    if batch.removed_on:
        state, closed = "removed", batch.removed_on
    defaults = Case(person_id=0, cell_id=0, state="", nominated_on=ceremony_on).model_dump(
        exclude={"id"}
    )
    return defaults | {
        "person_id": person_id,
        "cell_id": cell.id,
        "org_path": cell.path,
        "state": state,
        "open": closed is None,
        "nominated_on": batch.nominated_on or ceremony_on - timedelta(days=200),
        "decision_on": ceremony_on - timedelta(days=20),
        "ceremony_on": ceremony_on,
        "probation_end": rules.add_months(ceremony_on, 12),
        "official_on": batch.official_on,
        "closed_on": closed,
    }


# ── cases walked through the engine ───────────────────────────────────────
def nominate(engine: Engine, world: World, cell: int, start: date, **person: Any) -> int:
    data = demo.nomination(random.Random(start.toordinal() + cell), cell, start)
    defaults = {"gender": "male", "ethnicity": "Kinh", "religion": None, "occupation": "other"}
    data["person"].update({**defaults, "youth_union_member": False, **person})
    case = engine.nominate(data, world.secretary[cell], on=start.isoformat()).case
    assert case.id is not None
    return case.id


def walk_to(engine: Engine, world: World, cell: int, start: date, state: str, **person: Any) -> int:
    """A case nominated on `start` and walked along demo.PATH to `state`."""
    case_id = nominate(engine, world, cell, start, **person)
    demo.walk(engine, world, case_id, cell, start, demo.steps_to(state))
    return case_id


def days_to(state: str) -> int:
    """Days from nomination to the act that reaches `state` on the scripted path."""
    return demo.path_days(demo.steps_to(state))
