"""Fixtures of the documents tests (official forms, import, export): the demo
organisation tree on a migrated SQLite file, copied per test from one template (users'
password hashing is slow on purpose), an engine on a fixed clock, and row builders for
import files.
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel, func, select

from workflow import db
from workflow.access import Actor
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.engine import Engine
from workflow.exchange import layouts
from workflow.models import (
    Attendance,
    Case,
    CaseDeadline,
    Course,
    CourseHeadcount,
    HelperAssignment,
    HistoryEvent,
    Member,
    Person,
    Sponsorship,
    User,
)
from workflow.ops import demo
from workflow.ops.demo import World

TODAY = date(2026, 3, 2)  # a Monday
COUNTED: tuple[type[SQLModel], ...] = (
    Case,
    HistoryEvent,
    CaseDeadline,
    Member,
    Person,
    Sponsorship,
    HelperAssignment,
    Course,
    CourseHeadcount,
    Attendance,
)


def new_engine(path: Path) -> Engine:
    database = db.connect(f"sqlite:///{path}")
    db.migrate(database)
    return Engine(database, RuleParameters(), FixedClock.on(TODAY))


@dataclass
class Template:
    path: Path
    world: World


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("documents-template") / "ketnap.db"
    engine = new_engine(path)
    with engine.session() as session:
        world = demo.build_world(session, random.Random(7))
    engine.database.dispose()
    return Template(path, world)


@dataclass
class Docs:
    """The demo tree on a database of this test's own, and helpers to act on it."""

    engine: Engine
    world: World
    directory: Path
    rng: random.Random

    # ── the tree ─────────────────────────────────────────────────────────
    @property
    def dong_lo_cell(self) -> int:
        """A cell whose grassroots committee (Đông Lỗ) may admit."""
        return self.world.cell_ids[0]

    @property
    def bang_lung_cell(self) -> int:
        """A cell whose grassroots committee (Bằng Lũng) may not admit: its committee votes."""
        return self.world.cell_ids[3]

    def user(self, username: str) -> Actor:
        with self.engine.session() as session:
            user = session.exec(select(User).where(User.username == username)).one()
            return Actor.of(session, user)

    @property
    def admin(self) -> Actor:
        return self.user("admin")

    # ── reading ──────────────────────────────────────────────────────────
    def counts(self) -> dict[str, int]:
        """Rows per table, to prove that a rejected row wrote nothing."""
        with self.engine.session() as session:
            return {
                table.__name__: session.exec(select(func.count()).select_from(table)).one()
                for table in COUNTED
            }

    def case(self, case_id: int) -> Case:
        with self.engine.session() as session:
            case = session.get(Case, case_id)
            assert case is not None
            return case

    def cases_of(self, full_name: str) -> list[Case]:
        with self.engine.session() as session:
            query = (
                select(Case)
                .join(Person, Person.id == Case.person_id)  # type: ignore[arg-type]
                .where(Person.full_name == full_name)
            )
            return list(session.exec(query))

    # ── acting through the engine ────────────────────────────────────────
    def case_in(self, state: str, cell: int | None = None) -> int:
        """A new case walked along the demo path to `state`, its last act before today."""
        cell = self.dong_lo_cell if cell is None else cell
        steps = demo.steps_to(state)
        start = TODAY - timedelta(days=demo.path_days(steps) + 3)
        data = demo.nomination(self.rng, cell, start)
        data["person"]["youth_union_member"] = False
        outcome = self.engine.nominate(data, self.world.secretary[cell], on=start.isoformat())
        assert outcome.case.id is not None
        demo.walk(self.engine, self.world, outcome.case.id, cell, start, steps)
        return outcome.case.id

    # ── import files ─────────────────────────────────────────────────────
    def case_row(
        self, n: int, cell: int | None = None, target: str = "official", start: date | None = None
    ) -> dict[str, Any]:
        """An import row for a case that reached `target` along the usual path."""
        cell = self.dong_lo_cell if cell is None else cell
        start = start or date(2018, 1, 8) + timedelta(days=n % 900)
        # cells 3–4 belong to a committee that may not admit: it votes before the decision
        committee = cell in self.world.cell_ids[3:]
        return demo.import_row(
            n, cell, self.world.officials[cell], start, target=target, committee=committee
        )


def write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> Path:
    rows = list(rows)
    header = columns or layouts.columns("cases")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([cell_text(row.get(c)) for c in header])
    return path


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@pytest.fixture
def docs(template: Template, tmp_path: Path) -> Docs:
    path = tmp_path / "ketnap.db"
    shutil.copyfile(template.path, path)
    engine = Engine(db.connect(f"sqlite:///{path}"), RuleParameters(), FixedClock.on(TODAY))
    yield Docs(engine, template.world, tmp_path, random.Random(11))  # type: ignore[misc]
    engine.database.dispose()


@pytest.fixture
def pg_docs(tmp_path: Path) -> Iterator[Docs]:
    """The same, on a real PostgreSQL database of this test's own."""
    from tests.support.postgres import temporary_database

    with temporary_database() as url:
        database = db.connect(url)
        db.migrate(database)
        engine = Engine(database, RuleParameters(), FixedClock.on(TODAY))
        with engine.session() as session:
            world = demo.build_world(session, random.Random(7))
        try:
            yield Docs(engine, world, tmp_path, random.Random(11))
        finally:
            database.dispose()
