"""How every import goes through a file: rows are read in chunks of `BATCH_ROWS`, each
chunk planned (checked) by the kind's job, then written; the rows of a batch are
committed together (a few hundred, or about a second's work, so a long import never
holds SQLite's write lock for long) — or rolled back for a dry run. A rejected row is
reported and the others go on. The kinds' jobs (import_cases, import_members,
import_classes) subclass `ImportJob` with their `plan` and `write`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session

from workflow.access import Actor
from workflow.engine import Engine
from workflow.exchange import layouts
from workflow.exchange.lookups import Directory
from workflow.exchange.readers import Table
from workflow.exchange.report import ImportReport, RowError
from workflow.exchange.rows import Row

BATCH_ROWS = 200
BATCH_SECONDS = 1.0
Progress = Callable[[int, int], None]  # (rows done, rows in the file)


class ImportJob:
    """Reads rows in chunks, checks them, writes each accepted row, commits per batch."""

    def __init__(
        self, engine: Engine, session: Session, actor: Actor, report: ImportReport, names: list[str]
    ) -> None:
        self.engine, self.session, self.actor, self.report = engine, session, actor, report
        self.names = names
        self.today = engine.clock.today()
        self.directory = Directory(session, actor)
        self.seen: dict[tuple[Any, ...], int] = {}  # a person/member/class key → its line

    def run(self, table: Table, progress: Progress | None) -> None:
        total = max(table.total, 1)
        step = max(1, total // 200)
        chunk: list[tuple[int, list[Any]]] = []
        started, done, reported = time.monotonic(), 0, 0
        for numbered in table.rows:
            chunk.append(numbered)
            if len(chunk) < BATCH_ROWS:
                continue
            done += self._chunk(chunk, started)
            chunk, started = [], time.monotonic()
            if progress and done - reported >= step:
                progress(done, max(total, done))
                reported = done
        if chunk:
            done += self._chunk(chunk, started)
        if progress:
            progress(done, done)

    def _chunk(self, chunk: list[tuple[int, list[Any]]], started: float) -> int:
        choices = layouts.CHOICES.get(self.report.kind, {})
        rows = [Row(line, self.names, values, self.today, choices) for line, values in chunk]
        self.report.rows += len(rows)
        plans = self.plan(rows)
        if not self.report.checked_only:
            self.write(plans)
        else:
            self.report.accepted += len(plans)
        return len(rows)

    def plan(self, rows: list[Row]) -> list[Any]:
        raise NotImplementedError

    def write(self, plans: list[Any]) -> None:
        raise NotImplementedError

    def reject(self, errors: list[RowError]) -> None:
        self.report.reject(errors)

    def duplicate_in_file(
        self, row: Row, keys: Sequence[tuple[Any, ...]], what: tuple[str, str]
    ) -> bool:
        for key in keys:
            if key in self.seen:
                row.problem(
                    None,
                    f"Trùng {what[0]} với dòng {self.seen[key]}",
                    f"The same {what[1]} as line {self.seen[key]}",
                    "duplicate",
                )
                return True
        return False

    def begin_batch(self) -> None:
        """Open the batch's transaction on the database itself. pysqlite sends no BEGIN
        before a SAVEPOINT, and SQLite commits when the outermost savepoint is released:
        without this each row would commit alone and a dry run would write. IMMEDIATE
        takes the write lock up front, as the batch will write anyway."""
        connection = self.session.connection()
        if connection.dialect.name != "sqlite":
            return
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def finish_batch(self) -> None:
        if self.report.dry_run:
            self.session.rollback()
        else:
            self.session.commit()
