"""Durable by default: every SQLite connection Ketnap opens runs WAL with
synchronous=FULL, so a step the server has answered is on disk (a power cut cannot be
tested here; the setting that guarantees it can). NORMAL is a documented choice."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from workflow import config as config_module
from workflow import db, runtime

FULL, NORMAL = 2, 1  # PRAGMA synchronous answers a number


def pragmas(engine: sa.Engine) -> tuple[int, str]:
    with engine.connect() as connection:
        synchronous = connection.execute(sa.text("PRAGMA synchronous")).scalar_one()
        journal = connection.execute(sa.text("PRAGMA journal_mode")).scalar_one()
    return int(synchronous), str(journal)


def test_a_new_sqlite_connection_runs_wal_with_synchronous_full(tmp_path: Path) -> None:
    engine = db.connect(f"sqlite:///{tmp_path}/ketnap.db")
    try:
        assert pragmas(engine) == (FULL, "wal")
        db.migrate(engine)
        # every pooled connection, not only the first: open two at once
        with engine.connect() as one, engine.connect() as two:
            for connection in (one, two):
                assert connection.execute(sa.text("PRAGMA synchronous")).scalar_one() == FULL
    finally:
        engine.dispose()


def test_the_engine_built_from_the_shipped_configuration_is_durable(tmp_path: Path) -> None:
    config = config_module.load(environ={"KETNAP_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"})
    assert config.sqlite_synchronous == "FULL"
    engine = runtime.build(config=config)
    try:
        assert pragmas(engine.database) == (FULL, "wal")
    finally:
        engine.database.dispose()


def test_normal_is_chosen_explicitly_in_the_configuration(tmp_path: Path) -> None:
    config = config_module.load(
        environ={
            "KETNAP_DATABASE_URL": f"sqlite:///{tmp_path}/k.db",
            "KETNAP_DATABASE_SQLITE_SYNCHRONOUS": "NORMAL",
        }
    )
    engine = runtime.build(config=config)
    try:
        assert pragmas(engine.database) == (NORMAL, "wal")
    finally:
        engine.database.dispose()


def test_a_synchronous_level_ketnap_does_not_know_is_refused_naming_the_key() -> None:
    with pytest.raises(config_module.ConfigError) as refused:
        config_module.load(environ={"KETNAP_DATABASE_SQLITE_SYNCHRONOUS": "OFF"})
    assert "[database] sqlite_synchronous" in str(refused.value)
    assert "KETNAP_DATABASE_SQLITE_SYNCHRONOUS" in str(refused.value)
    with pytest.raises(KeyError):
        db.connect("sqlite://", synchronous="OFF")  # type: ignore[arg-type]
