"""Operations on a whole database: backup, restore, and copying every row between
SQLite and PostgreSQL (the way to outgrow one machine).

- SQLite backups use SQLite's online backup API: a consistent copy while the web
  workers keep writing (WAL readers never block writers).
- PostgreSQL backups are pg_dump's custom format, restored with pg_restore; when the
  client programs are missing (or older than the server) the exact command is given.
- `copy` moves every table in dependency order, preserving ids, resets PostgreSQL's
  sequences, and then checks the row counts and every case's hash chain.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

from workflow import db, history
from workflow.models import DERIVED_TABLES

BATCH = 5000


class OpsError(Exception):
    """An operation cannot be done as asked; the message says what to do instead."""


# ── backup and restore ────────────────────────────────────────────────────
@dataclass(frozen=True)
class Backup:
    path: Path
    kind: str  # sqlite | pg_dump
    cases: int | None = None


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise OpsError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def backup(url: str | URL, target: Path) -> Backup:
    """Write a consistent backup of the database at `url` to `target`, a new file that
    only its owner may read (0600: it holds people's particulars); removed again when
    the backup fails."""
    if target.exists():
        raise OpsError(f"{target} exists already; choose a new file name")
    if is_sqlite(url) and not sqlite_path(url).exists():
        raise OpsError(f"no SQLite database at {sqlite_path(url)}")
    if not db.create_private_file(target):
        raise OpsError(f"{target} exists already; choose a new file name")
    try:
        if is_sqlite(url):
            return _backup_sqlite(sqlite_path(url), target)
        return _backup_postgres(make_url(url), target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _backup_sqlite(source: Path, target: Path) -> Backup:
    with _sqlite(source) as live, _sqlite(target) as copy:
        live.backup(copy)  # the online backup API: one consistent snapshot
        problem = copy.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise OpsError(f"the backup does not check out: {problem}")
        cases = _count_cases(copy)
    return Backup(target, "sqlite", cases)


def _count_cases(connection: sqlite3.Connection) -> int | None:
    try:
        return int(connection.execute('SELECT count(*) FROM "case"').fetchone()[0])
    except sqlite3.OperationalError:
        return None


class _sqlite:
    """A plain sqlite3 connection as a context manager that always closes."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, timeout=30)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()


def restore(url: str | URL, source: Path, *, force: bool = False) -> Backup:
    """Replace the database at `url` with the backup in `source`."""
    if not source.exists():
        raise OpsError(f"no backup at {source}")
    if is_sqlite(url):
        target = sqlite_path(url)
        if target.exists() and not force and _has_cases(url):
            raise OpsError(f"{target} holds cases; add --force to overwrite it")
        db.create_private_file(target)  # a new database file is 0600, as db.connect makes it
        with _sqlite(source) as saved, _sqlite(target) as live:
            if saved.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise OpsError(f"{source} is not a sound SQLite database")
            saved.backup(live)
            cases = _count_cases(live)
        return Backup(target, "sqlite", cases)
    parsed = make_url(url)
    if not force and _has_cases(url):
        raise OpsError(f"database {parsed.database} holds cases; add --force to overwrite it")
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error",
               "--dbname", parsed.database or "", str(source)]  # fmt: skip
    _run_pg(command, parsed, "pg_restore")
    return Backup(source, "pg_dump")


def _has_cases(url: str | URL) -> bool:
    engine = db.connect(make_url(url).render_as_string(hide_password=False))
    try:
        if not db.is_initialised(engine):
            return False
        with engine.connect() as connection:
            return bool(connection.execute(sa.text('SELECT count(*) FROM "case"')).scalar())
    finally:
        engine.dispose()


def _backup_postgres(url: URL, target: Path) -> Backup:
    command = ["pg_dump", "--format=custom", "--no-owner", "--file", str(target),
               "--dbname", url.database or ""]  # fmt: skip
    _run_pg(command, url, "pg_dump")
    return Backup(target, "pg_dump")


def pg_environment(url: URL) -> dict[str, str]:
    """libpq's environment for `url`: host (or socket directory), port, user, password."""
    env: dict[str, str] = {}
    host = url.query.get("host") or url.host
    if isinstance(host, tuple):
        host = host[0]
    if host:
        env["PGHOST"] = str(host)
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def pg_command_line(command: list[str], url: URL) -> str:
    """The command as one shell line, the password left out (libpq asks for it)."""
    env = {k: v for k, v in pg_environment(url).items() if k != "PGPASSWORD"}
    prefix = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
    return (prefix + " " if prefix else "") + " ".join(_quote(part) for part in command)


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[\w@%+=:,./-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def _run_pg(command: list[str], url: URL, program: str) -> None:
    found = shutil.which(program)
    line = pg_command_line(command, url)
    if found is None:
        raise OpsError(f"{program} is not on PATH. Install the PostgreSQL client and run:\n{line}")
    server = _server_major(url)
    client = _client_major(found)
    if server is not None and client is not None and client < server:
        raise OpsError(
            f"{found} is version {client}, older than the server ({server}): it would refuse. "
            f"Put PostgreSQL {server}'s client programs first on PATH and run:\n{line}"
        )
    done = subprocess.run(
        [found, *command[1:]],
        env={**os.environ, **pg_environment(url)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise OpsError(f"{program} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _client_major(program: str) -> int | None:
    done = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
    return int(match.group(1)) if match else None


def _server_major(url: URL) -> int | None:
    engine = db.connect(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            number = int(connection.execute(sa.text("SHOW server_version_num")).scalar_one())
        return number // 10000
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


# ── copy between databases ───────────────────────────────────────────────
@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # tables the source schema lacks
    broken_chains: list[history.ChainCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken_chains


def tables() -> list[sa.Table]:
    """Every table of the schema, parents before children — but those the database
    derives itself (models.DERIVED_TABLES: its triggers fill them as the rows arrive)."""
    return [t for t in db.metadata().sorted_tables if t.name not in DERIVED_TABLES]


def copy(
    source_url: str, target_url: str, *, progress: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy every row from `source_url` into the empty database at `target_url`.

    One transaction on the target: a copy that fails leaves the target empty."""
    if make_url(source_url) == make_url(target_url):
        raise OpsError("--from and --to name the same database")
    source, target = db.connect(source_url), db.connect(target_url)
    try:
        _check_source(source)
        db.migrate(target)
        _check_empty(target)
        report = CopyReport()
        present = set(sa.inspect(source).get_table_names())
        with source.connect() as reading, target.begin() as writing:
            for table in tables():
                if table.name not in present:
                    report.missing.append(table.name)
                    report.rows[table.name] = 0
                    continue
                report.rows[table.name] = _copy_table(reading, writing, table, progress)
            if target.dialect.name == "postgresql":
                _reset_sequences(writing)
            _check_counts(writing, report.rows)
        with Session(target) as session:
            report.broken_chains = history.verify_all(session)
        return report
    finally:
        source.dispose()
        target.dispose()


def _check_source(source: Engine) -> None:
    if not db.is_initialised(source):
        raise OpsError("the source database has no Ketnap schema")
    with source.connect() as connection:
        current = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    head = _head_revision(source)
    if current != head:
        raise OpsError(
            f"the source schema is at revision {current}, not {head}: "
            "run `ketnap init --database <source>` first to migrate it"
        )


def _head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(db.alembic_config(engine)).get_current_head()


def _check_empty(target: Engine) -> None:
    with target.connect() as connection:
        for table in tables():
            if connection.execute(select(func.count()).select_from(table)).scalar():
                raise OpsError(
                    f"the target database is not empty (table {table.name} has rows); "
                    "copy into a new, empty database"
                )


def _self_references(table: sa.Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _copy_table(
    reading: sa.Connection,
    writing: sa.Connection,
    table: sa.Table,
    progress: Callable[[str, int], None] | None,
) -> int:
    """Stream `table` in primary-key order; self-references are set after all rows exist."""
    deferred = _self_references(table)
    key = list(table.primary_key.columns)
    copied = 0
    links: list[dict[str, Any]] = []
    result = reading.execution_options(yield_per=BATCH).execute(select(table).order_by(*key))
    for rows in _batches(result.mappings()):
        if deferred:
            links += [
                {**{f"k_{c.name}": row[c.name] for c in key}, **{d: row[d] for d in deferred}}
                for row in rows
                if any(row[d] is not None for d in deferred)
            ]
            rows = [{**row, **dict.fromkeys(deferred)} for row in rows]
        writing.execute(table.insert(), rows)
        copied += len(rows)
        if progress:
            progress(table.name, copied)
    if links:
        where = sa.and_(*(c == sa.bindparam(f"k_{c.name}") for c in key))
        values: dict[str, Any] = {d: sa.bindparam(d) for d in deferred}
        writing.execute(table.update().where(where).values(values), links)
    return copied


def _batches(result: Any) -> Iterator[list[dict[str, Any]]]:
    while True:
        chunk = result.fetchmany(BATCH)
        if not chunk:
            return
        yield [dict(row) for row in chunk]


def _reset_sequences(connection: sa.Connection) -> None:
    """After explicit ids, each sequence continues after the largest id."""
    for table in tables():
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, sa.Integer):
            continue
        name = table.name.replace('"', '""')
        sequence = connection.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": f'"{name}"', "column": key[0].name},
        ).scalar()
        if sequence is None:
            continue
        connection.execute(
            sa.text(
                f'SELECT setval(:sequence, COALESCE((SELECT max("{key[0].name}") '
                f'FROM "{name}"), 0) + 1, false)'
            ),
            {"sequence": sequence},
        )


def _check_counts(connection: sa.Connection, expected: dict[str, int]) -> None:
    for table in tables():
        found = connection.execute(select(func.count()).select_from(table)).scalar()
        if found != expected[table.name]:
            raise OpsError(
                f"table {table.name}: {found} rows arrived, {expected[table.name]} were sent"
            )
