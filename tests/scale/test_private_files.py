"""Files that hold people's particulars are created for their owner alone (0600): the
SQLite database with its -wal and -shm files, every backup, a restored database. The
process's umask is 022 in these tests, which would otherwise give 0644."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli.main import main
from tests.support import postgres as pg_support
from tests.support.postgres import create_database, drop_database
from workflow import db
from workflow.ops import database as ops


@pytest.fixture(autouse=True)
def permissive_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KETNAP_WEB_SECRET_KEY_FILE", str(tmp_path / "instance" / "secret_key"))
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ketnap(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_the_database_and_its_wal_and_shm_files_are_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "ketnap.db"
    engine = db.connect(f"sqlite:///{path}")
    try:
        db.migrate(engine)
        with engine.connect() as connection:  # open: the -wal and -shm files exist
            connection.execute(sa.text("SELECT count(*) FROM user")).scalar_one()
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()


def test_ketnap_init_creates_a_private_database(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    result = ketnap(
        "init", "--database", f"sqlite:///{path}", "--admin-password", "pw-for-the-test"
    )
    assert result.exit_code == 0, result.output
    assert mode(path) == 0o600


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    engine = db.connect(f"sqlite:///{path}")
    try:
        db.migrate(engine)
    finally:
        engine.dispose()
    assert mode(path) == 0o640


def test_in_memory_databases_touch_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = db.connect(url)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
        engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_sqlite_backups_and_restores_are_0600(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    ketnap("init", "--database", url, "--admin-password", "pw-for-the-test")
    target = tmp_path / "backup.db"
    result = ketnap("backup", "--database", url, "--to", str(target))
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
    restored = tmp_path / "restored.db"
    assert ketnap("restore", str(target), "--database", f"sqlite:///{restored}").exit_code == 0
    assert mode(restored) == 0o600


def test_a_failed_backup_leaves_no_file_behind(tmp_path: Path) -> None:
    target = tmp_path / "backup.db"
    with pytest.raises(ops.OpsError, match="no SQLite database"):
        ops.backup(f"sqlite:///{tmp_path}/missing.db", target)
    assert not target.exists()


@pytest.mark.postgres
def test_a_pg_dump_backup_is_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pg_url = create_database()
    try:
        engine = db.connect(pg_url)
        db.migrate(engine)
        engine.dispose()
        server = getattr(pg_support, "_server", None)
        if server is not None:  # the running test server's own pg_dump matches it
            monkeypatch.setenv("PATH", f"{server.bin_path}{os.pathsep}{os.environ['PATH']}")
        target = tmp_path / "k.dump"
        result = ketnap("backup", "--database", pg_url, "--to", str(target))
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
        assert mode(target) == 0o600
    finally:
        drop_database(pg_url)


@pytest.mark.postgres
def test_a_pg_dump_that_cannot_run_leaves_no_empty_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_url = create_database()
    try:
        empty = tmp_path / "bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        target = tmp_path / "k.dump"
        result = ketnap("backup", "--database", pg_url, "--to", str(target))
        assert result.exit_code != 0 and "pg_dump" in result.output
        assert not target.exists()
    finally:
        drop_database(pg_url)
