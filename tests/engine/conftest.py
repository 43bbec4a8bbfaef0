"""Fixtures of the engine's tests: a migrated database (SQLite file or a real PostgreSQL
database of its own), the demo organisation tree on it, and an engine on a fixed clock.
"""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, make_url, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel, select

from tests.support.postgres import (
    DATABASE_PREFIX,
    drop_database,
    postgres_server_url,
    temporary_database,
)
from workflow import db, process
from workflow.access import Actor
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.engine import Engine
from workflow.models import (
    Attendance,
    Case,
    CaseDeadline,
    Course,
    HelperAssignment,
    HistoryEvent,
    Member,
    Organisation,
    Person,
    Sponsorship,
)
from workflow.ops import demo
from workflow.ops.demo import World

# A Monday: every scripted path of workflow.demo fits before it.
TODAY = date(2026, 3, 2)
# The deadline an extension lengthens in each state that may ask for one
EXTENDED = {
    "admission_decided": "ceremony",
    "confirmation_cell_resolved": "confirmation_decision",
    "confirmation_committee_resolved": "confirmation_decision",
}

COUNTED: tuple[type[SQLModel], ...] = (
    Case,
    HistoryEvent,
    CaseDeadline,
    Member,
    Person,
    Sponsorship,
    HelperAssignment,
    Course,
    Attendance,
)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'ketnap.db'}"


def new_engine(url: str, today: date = TODAY, migrate: bool = True) -> Engine:
    database = db.connect(url)
    if migrate:
        db.migrate(database)
    return Engine(database, RuleParameters(), FixedClock.on(today))


@dataclass
class Setup:
    """An engine on a fresh migrated database holding the demo organisation tree."""

    engine: Engine
    world: World
    rng: random.Random

    @property
    def clock(self) -> FixedClock:
        clock = self.engine.clock
        assert isinstance(clock, FixedClock)
        return clock

    # ── the tree ──────────────────────────────────────────────────────────
    @property
    def dong_lo_cell(self) -> int:
        """A cell whose grassroots committee (Đông Lỗ) may admit."""
        return self.world.cell_ids[0]

    @property
    def bang_lung_cell(self) -> int:
        """A cell whose grassroots committee (Bằng Lũng) may not admit."""
        return self.world.cell_ids[3]

    def organisation(self, name: str) -> Organisation:
        with self.engine.session() as session:
            org = session.exec(select(Organisation).where(Organisation.name == name)).one()
        return org

    def secretary(self, cell: int) -> Actor:
        return self.world.secretary[cell]

    # ── reading ───────────────────────────────────────────────────────────
    def case(self, case_id: int) -> Case:
        with self.engine.session() as session:
            case = session.get(Case, case_id)
            assert case is not None
            return case

    def member(self, member_id: int) -> Member:
        with self.engine.session() as session:
            member = session.get(Member, member_id)
            assert member is not None
            return member

    def history(self, case_id: int) -> list[HistoryEvent]:
        with self.engine.session() as session:
            query = select(HistoryEvent).where(HistoryEvent.case_id == case_id)
            return sorted(session.exec(query), key=lambda row: row.seq)

    def counts(self) -> dict[str, int]:
        """Rows per table, to prove that a refused act wrote nothing."""
        with self.engine.session() as session:
            return {
                table.__name__: session.exec(select(func.count()).select_from(table)).one()
                for table in COUNTED
            }

    # ── acting ────────────────────────────────────────────────────────────
    def nomination(self, cell: int, on: date, **person: Any) -> dict[str, Any]:
        data = demo.nomination(self.rng, cell, on)
        # A Youth Union member of youth age needs the union's resolution: keep it simple
        data["person"]["youth_union_member"] = False
        data["person"].update(person)
        return data

    def nominate(self, cell: int, on: date, **person: Any) -> Case:
        data = self.nomination(cell, on, **person)
        return self.engine.nominate(data, self.secretary(cell), on=on.isoformat()).case

    def case_in(self, state: str, cell: int | None = None, end: date = TODAY) -> int:
        """A new case walked along the scripted path to `state`, its last act on or before `end`."""
        cell = self.dong_lo_cell if cell is None else cell
        steps = demo.steps_to(state)
        start = end - timedelta(days=demo.path_days(steps))
        case = self.nominate(cell, start)
        assert case.id is not None
        demo.walk(self.engine, self.world, case.id, cell, start, steps)
        return case.id

    def actor_for(self, event: str, cell: int) -> Actor:
        """Who records `event` for a case of `cell` (process.Event.acted_by)."""
        spec = process.event(event)
        assert spec is not None
        return {
            "cell": self.world.secretary,
            "helper": self.world.secretary,
            "committee": self.world.committee_officer,
            "authority": self.world.authority_officer,
        }[spec.acted_by][cell]

    def plausible_data(
        self, event: str, cell: int, on: date, state: str = "cell_resolved"
    ) -> dict[str, Any]:
        """Data a secretary or an officer would really record for `event` in `state`."""
        scripted = {step.event: step for step in demo.PATH}
        if event in scripted:
            return scripted[event].data(self.world, cell, on)
        neighbour = next(c for c in self.world.cell_ids if c != cell)
        others: dict[str, dict[str, Any]] = {
            "fail_class": {"reason": "Vắng quá số buổi quy định"},
            "remove": {"decision_no": "3-QĐ/ĐU", "reason": "Vi phạm tư cách đảng viên"},
            "reject": {"by": "cell", "reason": "Không đủ tiêu chuẩn"},
            "withdraw": {"reason": "Chuyển công tác ra khỏi địa phương"},
            "transfer": {"to_cell_id": neighbour},
            "correct_particulars": {"person": {"village": "Thôn Mới"}, "reason": "Ghi sai thôn"},
            "grant_extension": {
                "deadline": EXTENDED.get(state, "decision"),
                "working_days": 10,
                "consent_ref": "45-CV/TU",
            },
        }
        return others[event]

    def advance(
        self,
        case_id: int,
        event: str,
        data: dict[str, Any],
        actor: Actor,
        on: date,
        version: int | None = None,
    ) -> Any:
        expected = self.case(case_id).version if version is None else version
        return self.engine.advance(case_id, event, data, actor, expected, on=on.isoformat())


def build_template(url: str, seed: int = 7) -> World:
    """Migrate and populate the demo tree once: users' password hashing is slow on purpose."""
    engine = new_engine(url)
    with engine.session() as session:
        world = demo.build_world(session, random.Random(seed))
    engine.database.dispose()  # the last SQLite connection checkpoints the WAL
    return world


@dataclass(frozen=True)
class Template:
    url: str
    world: World


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    url = sqlite_url(tmp_path_factory.mktemp("template"))
    return Template(url, build_template(url))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[Template]:
    with temporary_database() as url:
        yield Template(url, build_template(url))


def copy_sqlite(template: Template, directory: Path) -> str:
    source = Path(template.url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", directory / f"ketnap.db{suffix}")
    return sqlite_url(directory)


@contextmanager
def copy_postgres(template: Template) -> Iterator[str]:
    """A fresh database cloned from the template (CREATE DATABASE … TEMPLATE), dropped after."""
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex}"
    admin = create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    source = make_url(template.url).database
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    finally:
        admin.dispose()
    url = make_url(template.url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        drop_database(url)


def open_setup(url: str, world: World, today: date = TODAY) -> Setup:
    """A Setup on a copy of a template (already migrated)."""
    return Setup(new_engine(url, today, migrate=False), world, random.Random(11))


@contextmanager
def setup_on(kind: str, request: pytest.FixtureRequest, directory: Path) -> Iterator[Setup]:
    """A Setup on a copy of the session's template database of `kind`."""
    if kind == "sqlite":
        template: Template = request.getfixturevalue("sqlite_template")
        built = open_setup(copy_sqlite(template, directory), template.world)
        try:
            yield built
        finally:
            built.engine.database.dispose()
        return
    template = request.getfixturevalue("postgres_template")
    with copy_postgres(template) as url:
        built = open_setup(url, template.world)
        try:
            yield built
        finally:
            built.engine.database.dispose()


BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BOTH)
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    """The demo tree on a database of the test's own: SQLite, and a real PostgreSQL."""
    with setup_on(request.param, request, tmp_path) as built:
        yield built


@pytest.fixture(scope="module", params=BOTH)
def module_setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    """One database per test module, for tests that prove nothing is written."""
    with setup_on(request.param, request, tmp_path_factory.mktemp("module")) as built:
        yield built


@pytest.fixture
def sqlite_setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    """The demo tree on SQLite only (for tests whose subject is not the database)."""
    with setup_on("sqlite", request, tmp_path) as built:
        yield built


@pytest.fixture
def postgres_setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    """The demo tree on a real PostgreSQL only."""
    with setup_on("postgres", request, tmp_path) as built:
        yield built
