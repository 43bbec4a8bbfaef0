"""Database connections: SQLite (WAL, foreign keys, synchronous=FULL) by default,
PostgreSQL by URL.

`synchronous=FULL` makes SQLite fsync the write-ahead log at every commit: a step the
server has answered survives a power cut. NORMAL skips that fsync (only the checkpoint
syncs) and loses the last commits on a power cut, never the database's consistency;
deploy/README.md says when to choose it ([database] sqlite_synchronous).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, event, inspect
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, create_engine

from workflow import models  # noqa: F401 — registers every table on SQLModel.metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

Synchronous = Literal["FULL", "NORMAL"]
# Owner-only: the database holds people's particulars. SQLite gives its -wal and -shm
# files the database file's mode, so creating this one 0600 covers all three.
PRIVATE_FILE = 0o600


def connect(url: str, *, synchronous: Synchronous = "FULL", **options: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        create_private_database(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **options
        )
        event.listen(engine, "connect", _sqlite_pragmas(synchronous))
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **options)


def create_private_file(path: Path | str) -> bool:
    """Create `path` empty with mode 0600 unless it exists (an empty file is an empty
    SQLite database); True when this call created it."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def create_private_database(url: str) -> None:
    """A SQLite file database that does not exist yet is created 0600 before SQLite
    creates it with its own default (0644). In-memory and URI databases are left alone,
    and so is a missing folder (SQLite's own error then says so)."""
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or parsed.query.get("uri"):
        return
    if database.startswith("file:") or not Path(database).parent.is_dir():
        return
    create_private_file(database)


def _sqlite_pragmas(synchronous: Synchronous) -> Callable[[Any, Any], None]:
    level = SYNCHRONOUS[synchronous]  # a KeyError here, never a value pasted into SQL

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers work while one writer commits. FULL fsyncs the WAL at each
        # commit, so an acknowledged write survives a power cut (see the module's doc).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={level}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return on_connect


SYNCHRONOUS: dict[str, str] = {"FULL": "FULL", "NORMAL": "NORMAL"}


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # configparser treats "%" as interpolation: escape it (a PG socket path is URL-quoted)
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("case")


def metadata() -> Any:
    return SQLModel.metadata
