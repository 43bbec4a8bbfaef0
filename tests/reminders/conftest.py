"""Fixtures of the reminder tests: the demo organisation on a fresh database (a copy of a
SQLite template, or a real PostgreSQL database), an engine on a fixed clock, cases walked
to a chosen state on a chosen date, and sweeps with or without a real SMTP peer.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from tests.support.postgres import temporary_database
from tests.support.smtp import SmtpPeer
from workflow import db
from workflow.access import Actor
from workflow.clock import FixedClock
from workflow.config import Config, RuleParameters, SmtpSettings
from workflow.engine import Engine
from workflow.models import Case, Delivery, InboxItem, Reminder, User
from workflow.ops import demo
from workflow.ops.demo import World
from workflow.reminders.inbox import InboxEntry
from workflow.reminders.inbox import inbox as inbox_of
from workflow.reminders.sweep import SweepResult
from workflow.reminders.sweep import sweep as run_sweep

BASE_URL = "http://ketnap.test"


def new_engine(url: str, today: date) -> Engine:
    database = db.connect(url)
    db.migrate(database)
    return Engine(database, RuleParameters(), FixedClock.on(today))


@dataclass
class Town:
    """The demo organisation on its own database, with the tools to travel in time."""

    engine: Engine
    world: World
    config: Config = field(default_factory=lambda: Config(web={"base_url": BASE_URL}))
    rng: random.Random = field(default_factory=lambda: random.Random(11))

    @property
    def clock(self) -> FixedClock:
        clock = self.engine.clock
        assert isinstance(clock, FixedClock)
        return clock

    @property
    def dong_lo_cell(self) -> int:
        """Cell "Chi bộ thôn Hương Câu": user `secretary`; its first official is `sponsor`."""
        return self.world.cell_ids[0]

    @property
    def bang_lung_cell(self) -> int:
        """A cell of Bằng Lũng, which may not admit: the province decides."""
        return self.world.cell_ids[3]

    def mail_through(self, peer: SmtpPeer) -> None:
        smtp = SmtpSettings(enabled=True, host="127.0.0.1", port=peer.port, sender="ketnap@test")
        self.config = replace(self.config, smtp=smtp)

    # ── cases ─────────────────────────────────────────────────────────────
    def case_in(self, state: str, last_act_on: date, cell: int | None = None) -> int:
        """A new case walked along demo.PATH to `state`, its last act on `last_act_on`."""
        cell = self.dong_lo_cell if cell is None else cell
        steps = demo.steps_to(state)
        start = last_act_on - timedelta(days=demo.path_days(steps))
        self.clock.advance_to(max(self.clock.today(), last_act_on))
        data = demo.nomination(self.rng, cell, start)
        data["person"]["youth_union_member"] = False
        case = self.engine.nominate(data, self.world.secretary[cell], on=start.isoformat()).case
        assert case.id is not None
        demo.walk(self.engine, self.world, case.id, cell, start, steps)
        return case.id

    def advance(
        self, case_id: int, event: str, data: dict[str, Any], actor: Actor, on: date
    ) -> Any:
        self.clock.advance_to(max(self.clock.today(), on))
        version = self.case(case_id).version
        return self.engine.advance(case_id, event, data, actor, version, on=on.isoformat())

    def case(self, case_id: int) -> Case:
        with self.engine.session() as session:
            case = session.get(Case, case_id)
            assert case is not None
            return case

    # ── sweeping ──────────────────────────────────────────────────────────
    def sweep(self, on: date | None = None, *, dry_run: bool = False) -> SweepResult:
        if on is not None:
            self.clock.advance_to(on)
        return run_sweep(self.engine, self.config, dry_run=dry_run)

    # ── reading ───────────────────────────────────────────────────────────
    def user(self, username: str) -> User:
        with self.engine.session() as session:
            return session.exec(select(User).where(User.username == username)).one()

    def actor(self, username: str) -> Actor:
        with self.engine.session() as session:
            user = session.exec(select(User).where(User.username == username)).one()
            return Actor.of(session, user)

    def inbox(self, username: str, status: str | None = "open") -> list[InboxEntry]:
        user = self.user(username)
        assert user.id is not None
        with self.engine.session() as session:
            return inbox_of(session, user.id, self.actor(username), status=status)

    def count(self, model: type[Any]) -> int:
        with self.engine.session() as session:
            return int(session.exec(select(func.count()).select_from(model)).one())

    def deliveries(self) -> list[Delivery]:
        with self.engine.session() as session:
            return list(session.exec(select(Delivery).order_by(col(Delivery.id))))

    def reminders(self) -> list[Reminder]:
        with self.engine.session() as session:
            return list(session.exec(select(Reminder).order_by(col(Reminder.id))))

    def items(self) -> list[InboxItem]:
        with self.engine.session() as session:
            return list(session.exec(select(InboxItem).order_by(col(InboxItem.id))))


def build_world(url: str, today: date, seed: int = 7) -> World:
    engine = new_engine(url, today)
    with engine.session() as session:
        world = demo.build_world(session, random.Random(seed))
    engine.database.dispose()  # the last SQLite connection checkpoints the WAL
    return world


@dataclass(frozen=True)
class Template:
    path: Path
    world: World


START = date(2025, 1, 6)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The demo tree built once (users' password hashes are slow on purpose)."""
    path = tmp_path_factory.mktemp("reminders-template") / "ketnap.db"
    return Template(path, build_world(f"sqlite:///{path}", START))


@pytest.fixture
def town(sqlite_template: Template, tmp_path: Path) -> Iterator[Town]:
    """The demo tree on a fresh SQLite file of this test."""
    target = tmp_path / "ketnap.db"
    shutil.copyfile(sqlite_template.path, target)
    engine = new_engine(f"sqlite:///{target}", START)
    yield Town(engine, sqlite_template.world)
    engine.database.dispose()


@pytest.fixture
def pg_town() -> Iterator[Town]:
    """The demo tree on a fresh database of a real PostgreSQL server."""
    with temporary_database() as url:
        world = build_world(url, START)
        engine = new_engine(url, START)
        yield Town(engine, world)
        engine.database.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    peer = SmtpPeer()
    peer.start()
    yield peer
    peer.stop()
