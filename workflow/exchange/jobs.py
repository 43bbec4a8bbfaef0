"""Import jobs: an uploaded file is queued here by the page and run by the scheduler
process (or `ketnap imports run`), never inside a web worker.

- `submit` stores the upload (0600, in the configured folder, refused past the size
  cap while it is copied) and queues a job, refusing a user who already has
  `per_user` jobs queued or running (counted under a lock: two uploads at once cannot
  both pass).
- `claim` takes the oldest queued job with an UPDATE … WHERE state = 'queued': of two
  runners, exactly one sees its row count be 1; `run` imports the file as its owner,
  writing progress and the report to the job's row.
- `clean` removes the files of jobs older than `keep_days` (by the engine's clock) and
  fails jobs whose runner stopped sending progress (killed mid-import).
- `tick` is what the scheduler calls: clean, then run every queued job.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import secrets
import socket
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text, update
from sqlmodel import Session, col, func, select

from workflow import queue
from workflow.access import Actor, Forbidden
from workflow.engine import Engine
from workflow.exchange import export, run
from workflow.exchange.limits import Limits
from workflow.exchange.report import ImportFileError, ImportReport
from workflow.models import ImportJobRecord, User
from workflow.text import Explained, Text

log = logging.getLogger("ketnap.imports")

MODES = ("import", "dry_run", "check")
ACTIVE = ("queued", "running")
SUFFIXES = (".csv", ".xlsx")
REPORT_ERRORS = 500  # rejected rows kept on the job's row (the page's table); all in the CSV
PROGRESS_SECONDS = 0.5  # a progress write at most this often
STALE = timedelta(minutes=30)  # a running job silent this long lost its runner
CHUNK = 1 << 20


@dataclass(frozen=True)
class Settings:
    """The [imports] section, as the jobs use it."""

    folder: Path
    limits: Limits
    per_user: int = 2
    keep_days: int = 7

    @classmethod
    def of(cls, imports: Mapping[str, Any]) -> Settings:
        folder = str(imports.get("dir") or "") or str(Path(tempfile.gettempdir(), "ketnap-imports"))
        return cls(
            Path(folder),
            Limits.of(imports),
            int(imports.get("per_user", 2)),
            int(imports.get("keep_days", 7)),
        )

    def path(self, job: ImportJobRecord, what: str = "upload") -> Path:
        if what == "upload":
            return self.folder / job.stored_name
        return self.folder / f"{Path(job.stored_name).stem}.rejected.csv"


class TooManyJobs(Explained):
    def __init__(self, limit: int) -> None:
        super().__init__(
            Text(
                f"Bạn đã có {limit} lần nhập đang chờ hoặc đang chạy: hãy đợi một lần xong",
                f"You already have {limit} imports queued or running: wait for one to end",
            )
        )


# ── queueing ──────────────────────────────────────────────────────────────
def submit(
    engine: Engine,
    actor: Actor,
    source: IO[bytes],
    file_name: str,
    settings: Settings,
    *,
    kind: str | None = None,
    mode: str = "import",
) -> ImportJobRecord:
    """Store the upload and queue its job (ImportFileError, TooManyJobs: nothing kept)."""
    if actor.role not in run.IMPORTERS:
        raise Forbidden(f"role {actor.role} may not import")
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES or mode not in MODES:
        raise ImportFileError(
            "Chỉ nhận tệp CSV (UTF-8) hoặc Excel (.xlsx)", "Only CSV (UTF-8) or XLSX files"
        )
    stored = f"{secrets.token_urlsafe(18)}{suffix}"
    size = _store(source, settings, stored)
    try:
        with engine.session() as session:
            _write_lock(session, actor.username)
            active = session.exec(
                select(func.count())
                .select_from(ImportJobRecord)
                .where(ImportJobRecord.owner == actor.username)
                .where(col(ImportJobRecord.state).in_(ACTIVE))
            ).one()
            if active >= settings.per_user:
                raise TooManyJobs(settings.per_user)
            job = ImportJobRecord(
                owner=actor.username,
                kind=kind,
                mode=mode,
                file_name=file_name[:200],
                stored_name=stored,
                size=size,
                created_at=engine.clock.now(),
            )
            session.add(job)
            session.commit()
            session.refresh(job)
    except BaseException:
        (settings.folder / stored).unlink(missing_ok=True)
        raise
    return job


def _store(source: IO[bytes], settings: Settings, stored: str) -> int:
    """Copy the upload into the folder, readable by its owner only; refused (and
    removed) once it passes the size cap."""
    settings.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = settings.folder / stored
    size = 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            while block := source.read(CHUNK):
                size += len(block)
                settings.limits.check_size(size)
                out.write(block)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return size


def _write_lock(session: Session, owner: str | None) -> None:
    """Serialise the writers that count a user's jobs: SQLite's write lock taken up front
    (BEGIN IMMEDIATE: a read snapshot taken first could not be written from), and on
    PostgreSQL a transaction-scoped advisory lock per `owner` (None: no lock — a claim
    relies on the UPDATE's row lock and its re-checked WHERE)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql" and owner is not None:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('ketnap-import:' || :owner))"),
            {"owner": owner},
        )


# ── running ───────────────────────────────────────────────────────────────
def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def claim(engine: Engine, runner: str) -> int | None:
    """Take the oldest queued job for `runner`; None when there is none."""
    with engine.session() as session:
        _write_lock(session, None)
        return queue.claim(session, ImportJobRecord, runner, engine.clock.now())


def run_claimed(engine: Engine, job_id: int, settings: Settings) -> None:
    """Run a job this runner claimed; its outcome (done or failed) is on its row."""
    with engine.session() as session:
        job = session.get(ImportJobRecord, job_id)
        assert job is not None and job.state == "running"
        user = session.exec(select(User).where(User.username == job.owner)).first()
        actor = Actor.of(session, user) if user is not None and user.active else None
        session.expunge(job)
    progress = _Progress(engine, job_id)
    try:
        if actor is None:
            raise Forbidden(f"{job.owner} may no longer sign in")
        report = _import(engine, job, actor, settings, progress)
        _finish(engine, job, settings, report)
    except ImportFileError as error:
        _fail(engine, job_id, error.text)
    except Forbidden:
        _fail(
            engine,
            job_id,
            Text("Vai trò của bạn không được nhập dữ liệu", "Your role may not import data"),
        )
    except Exception:  # the job must always end in a readable state
        log.exception("import job %s failed", job_id)
        _fail(
            engine,
            job_id,
            Text(
                "Lỗi không lường trước khi nhập; không dòng nào của lô đang chạy được ghi",
                "Unexpected error while importing; the batch in progress was not written",
            ),
        )
    finally:
        settings.path(job).unlink(missing_ok=True)


def _import(
    engine: Engine, job: ImportJobRecord, actor: Actor, settings: Settings, progress: _Progress
) -> ImportReport:
    upload = settings.path(job)
    if job.mode == "check":
        return run.check_file(
            engine,
            upload,
            actor,
            progress,
            kind=job.kind,
            file_name=job.file_name,
            limits=settings.limits,
        )
    return run.import_file(
        engine,
        upload,
        actor,
        progress,
        kind=job.kind,
        dry_run=job.mode == "dry_run",
        file_name=job.file_name,
        limits=settings.limits,
    )


class _Progress:
    """Rows done and the file's total on the job's row, a few times a second at most."""

    def __init__(self, engine: Engine, job_id: int) -> None:
        self.engine, self.job_id = engine, job_id
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if time.monotonic() - self.last < PROGRESS_SECONDS and done < total:
            return
        self.last = time.monotonic()
        with self.engine.session() as session:
            session.execute(
                update(ImportJobRecord)
                .where(col(ImportJobRecord.id) == self.job_id)
                .values(done=done, total=total, heartbeat_at=self.engine.clock.now())
            )
            session.commit()


def _finish(engine: Engine, job: ImportJobRecord, settings: Settings, report: ImportReport) -> None:
    errors = sorted(report.errors, key=lambda e: e.line)
    if errors:
        _write_rejected(settings.path(job, "rejected"), errors)
    with engine.session() as session:
        row = session.get(ImportJobRecord, job.id)
        assert row is not None
        row.state, row.done, row.total = "done", report.rows, report.rows
        row.kind = report.kind  # told from the columns when the upload did not say
        row.rows, row.accepted, row.written = report.rows, report.accepted, report.written
        row.rejected, row.errors_omitted = report.rejected, report.omitted
        row.errors = json.dumps(
            [_error_json(e) for e in errors[:REPORT_ERRORS]], ensure_ascii=False
        )
        row.finished_at = row.heartbeat_at = engine.clock.now()
        session.add(row)
        session.commit()


def _error_json(error: Any) -> dict[str, Any]:
    return {
        "line": error.line,
        "column": error.column,
        "rule": error.rule,
        "vi": error.text.vi,
        "en": error.text.en,
    }


def _write_rejected(path: Path, errors: list[Any]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "column", "rule", "message_vi", "message_en"])
        for e in errors:
            values = [e.line, e.column or "", e.rule or "", e.text.vi, e.text.en]
            writer.writerow([export.cell_text(v) for v in values])


def _fail(engine: Engine, job_id: int, why: Text) -> None:
    with engine.session() as session:
        queue.fail(session, ImportJobRecord, job_id, why, engine.clock.now())


def run_pending(
    engine: Engine, settings: Settings, runner: str | None = None, limit: int | None = None
) -> int:
    """Claim and run queued jobs one after another until none is left (or `limit`)."""
    runner = runner or runner_name()
    count = 0
    while limit is None or count < limit:
        job_id = claim(engine, runner)
        if job_id is None:
            break
        run_claimed(engine, job_id, settings)
        count += 1
    return count


# ── cleaning ──────────────────────────────────────────────────────────────
def clean(engine: Engine, settings: Settings) -> int:
    """Remove the files of jobs created more than `keep_days` ago, and fail the running
    jobs whose runner has been silent for `STALE`. Returns the jobs cleaned."""
    now = engine.clock.now()
    with engine.session() as session:
        _fail_stale(session, now)
        old = session.exec(
            select(ImportJobRecord)
            .where(col(ImportJobRecord.files_removed_at).is_(None))
            .where(col(ImportJobRecord.created_at) < now - timedelta(days=settings.keep_days))
            .where(col(ImportJobRecord.state).not_in(ACTIVE))
        ).all()
        for job in old:
            settings.path(job).unlink(missing_ok=True)
            settings.path(job, "rejected").unlink(missing_ok=True)
            job.files_removed_at, job.errors = now, None
            session.add(job)
        session.commit()
    return len(old)


_STOPPED = Text(
    "Lần nhập bị dừng giữa chừng (tiến trình chạy nó đã dừng); "
    "các lô đã ghi vẫn còn, hãy nhập lại các dòng còn lại",
    "The import stopped midway (its process ended); the batches "
    "written stay, import the remaining rows again",
)


def _fail_stale(session: Session, now: datetime) -> None:
    queue.fail_stale(session, ImportJobRecord, now, STALE, _STOPPED)


def tick(engine: Engine, settings: Settings) -> int:
    """The scheduler's job: clean, then run whatever is queued. Returns the jobs run."""
    clean(engine, settings)
    return run_pending(engine, settings)


# ── reading (the page and its polling) ────────────────────────────────────
def job_of(engine: Engine, actor: Actor, job_id: int) -> ImportJobRecord | None:
    """The job if it is the actor's own (another user's job does not exist for them)."""
    with engine.session() as session:
        job = session.get(ImportJobRecord, job_id)
        if job is None or job.owner != actor.username:
            return None
        session.expunge(job)
        return job


def status(job: ImportJobRecord) -> dict[str, Any]:
    """What the page's script polls."""
    finished = job.state == "done"
    percent = 100 if finished else (int(job.done * 100 / job.total) if job.total else 0)
    report = (
        {
            "kind": job.kind,
            "rows": job.rows,
            "accepted": job.accepted,
            "written": job.written,
            "rejected": job.rejected,
            "errors_omitted": job.errors_omitted,
            "dry_run": job.mode != "import",
            "checked_only": job.mode == "check",
        }
        if finished
        else None
    )
    return {
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "report": report,
    }


def errors_of(job: ImportJobRecord, locale: str) -> list[dict[str, Any]]:
    """The first rejections, each with its message in the locale."""
    kept: list[dict[str, Any]] = json.loads(job.errors or "[]")
    return [e | {"message": e["en" if locale == "en" else "vi"]} for e in kept]
