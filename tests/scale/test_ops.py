"""`ketnap backup`, `restore` and `copy`: whole databases, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import shutil
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, select

from cli.main import main
from tests.support import postgres as pg_support
from tests.support.postgres import create_database, drop_database
from workflow import db, history
from workflow.access import Actor
from workflow.clock import SystemClock
from workflow.config import RuleParameters
from workflow.engine import Engine
from workflow.models import Case, User
from workflow.ops import database as ops
from workflow.ops import demo


def demo_engine(url: str) -> tuple[Engine, demo.World]:
    engine = Engine(db.connect(url), RuleParameters(), SystemClock())
    db.migrate(engine.database)
    return engine, demo.populate(engine)


def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, ordered by primary key, as comparable tuples."""
    engine = db.connect(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        sa.select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in ops.tables()
            }
    finally:
        engine.dispose()


def ketnap(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


# ── SQLite backup and restore ────────────────────────────────────────────
def test_a_sqlite_backup_taken_while_cases_advance_is_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine, world = demo_engine(url)
    cell = world.cell_ids[0]
    start = engine.clock.today() - timedelta(days=400)
    done = threading.Event()

    def keep_writing() -> None:
        rng = random.Random(5)
        while not done.is_set():
            data = demo.nomination(rng, cell, start)
            data["person"]["youth_union_member"] = False
            outcome = engine.nominate(data, world.secretary[cell], on=start.isoformat())
            assert outcome.case.id is not None
            demo.walk(engine, world, outcome.case.id, cell, start, demo.steps_to("sponsored"))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        backups = [ops.backup(url, tmp_path / f"backup-{n}.db") for n in range(3)]
    finally:
        done.set()
        writer.join()
    for made in backups:
        copy = db.connect(f"sqlite:///{made.path}")
        with Session(copy) as session:
            assert history.verify_all(session) == []
            assert made.cases == len(session.exec(select(Case.id)).all())
        copy.dispose()
    engine.database.dispose()


def test_restore_brings_back_the_backup_and_refuses_to_overwrite_cases(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ketnap.db'}"
    engine, _ = demo_engine(url)
    engine.database.dispose()
    before = every_row(url)
    result = ketnap("backup", "--database", url, "--to", str(tmp_path / "saved.db"))
    assert result.exit_code == 0, result.output
    assert "saved.db" in result.output
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    result = ketnap("restore", str(tmp_path / "saved.db"), "--database", target)
    assert result.exit_code == 0, result.output
    assert every_row(target) == before
    again = ketnap("restore", str(tmp_path / "saved.db"), "--database", target)
    assert again.exit_code != 0 and "--force" in again.output
    forced = ketnap("restore", str(tmp_path / "saved.db"), "--database", target, "--force")
    assert forced.exit_code == 0, forced.output


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ketnap.db'}"
    demo_engine(url)[0].database.dispose()
    (tmp_path / "taken.db").write_bytes(b"precious")
    result = ketnap("backup", "--database", url, "--to", str(tmp_path / "taken.db"))
    assert result.exit_code != 0 and "exists" in result.output
    assert (tmp_path / "taken.db").read_bytes() == b"precious"


# ── copy between SQLite and PostgreSQL ───────────────────────────────────
@pytest.mark.postgres
def test_copy_sqlite_to_postgres_and_back_keeps_every_row_and_id(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    demo_engine(source)[0].database.dispose()
    pg_url = create_database()
    try:
        result = ketnap("copy", "--from", source, "--to", pg_url)
        assert result.exit_code == 0, result.output
        assert "every history chain verifies" in result.output
        assert every_row(pg_url) == every_row(source)
        back = f"sqlite:///{tmp_path / 'back.db'}"
        result = ketnap("copy", "--from", pg_url, "--to", back)
        assert result.exit_code == 0, result.output
        assert every_row(back) == every_row(source)
        # the sequences continue after the copied ids: the engine nominates as usual
        engine = Engine(db.connect(pg_url), RuleParameters(), SystemClock())
        with engine.session() as session:
            largest = max(session.exec(select(Case.id)).all())
            cell = session.exec(select(Case.cell_id).limit(1)).one()
        actor = ops_actor(pg_url, cell)
        data = demo.nomination(random.Random(1), cell, engine.clock.today())
        data["person"]["youth_union_member"] = False
        outcome = engine.nominate(data, actor, on=engine.clock.today().isoformat())
        assert outcome.case.id == largest + 1
        engine.database.dispose()
    finally:
        drop_database(pg_url)


def ops_actor(url: str, cell_id: int) -> Any:
    engine = db.connect(url)
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.username == "officer-tinh")).one()
            return Actor.of(session, user)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_copy_refuses_a_target_that_holds_data(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    demo_engine(source)[0].database.dispose()
    pg_url = create_database()
    try:
        assert ketnap("copy", "--from", source, "--to", pg_url).exit_code == 0
        again = ketnap("copy", "--from", source, "--to", pg_url)
        assert again.exit_code != 0 and "not empty" in again.output
    finally:
        drop_database(pg_url)


# ── PostgreSQL backup and restore ────────────────────────────────────────
def _server_programs() -> str | None:
    """The running test server's own bin directory (its pg_dump matches its version)."""
    server = getattr(pg_support, "_server", None)
    return str(server.bin_path) if server is not None else None


@pytest.mark.postgres
def test_postgres_backup_and_restore_with_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_url = create_database()
    restored = create_database()
    try:
        demo_engine(pg_url)[0].database.dispose()
        programs = _server_programs()
        if programs:
            monkeypatch.setenv("PATH", f"{programs}{os.pathsep}{os.environ['PATH']}")
        result = ketnap("backup", "--database", pg_url, "--to", str(tmp_path / "k.dump"))
        assert result.exit_code == 0, result.output
        result = ketnap("restore", str(tmp_path / "k.dump"), "--database", restored)
        assert result.exit_code == 0, result.output
        assert every_row(restored) == every_row(pg_url)
    finally:
        drop_database(pg_url)
        drop_database(restored)


@pytest.mark.postgres
def test_without_pg_dump_the_exact_command_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_url = create_database()
    try:
        empty = tmp_path / "bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        assert shutil.which("pg_dump") is None
        result = ketnap("backup", "--database", pg_url, "--to", str(tmp_path / "k.dump"))
        assert result.exit_code != 0
        assert "pg_dump --format=custom" in result.output
        assert str(sa.make_url(pg_url).database) in result.output
    finally:
        drop_database(pg_url)
