"""The auditor's whole-subtree integrity check, run in the background and kept.

- `request_check` (an action that logs, like every non-case write) queues a check of the
  actor's subtree — the whole database for an admin or an auditor whose subtree holds
  every organisation — unless one of that subtree is already queued or running;
- the scheduler's `tick` (every [imports] poll_seconds, with the import runner) claims
  queued checks with an UPDATE … WHERE state = 'queued' (one runner wins), runs them
  (workflow/history/integrity.py), writes progress to the check's row and keeps the
  result there: its date, who asked, the cases and rows checked, the problems found;
- the page reads the last result and polls `status` while one runs: nothing recomputes
  on a page view.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text, update
from sqlmodel import Session, col, func, select

from workflow import queue
from workflow.access import Actor, Forbidden
from workflow.directory import admin_log
from workflow.history import integrity
from workflow.models import IntegrityCheckRecord, Organisation, User
from workflow.text import Text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from workflow.engine import Engine

log = logging.getLogger("ketnap.integrity")

ACTIVE = ("queued", "running")
STALE = timedelta(minutes=30)  # a running check silent this long lost its runner
PROGRESS_SECONDS = 0.5
KEPT_PROBLEMS = 500  # problems kept on the row (all are counted)


def scope_of(session: Session, actor: Actor) -> tuple[str, bool]:
    """(the subtree's path, whether it is the whole database) for a reader."""
    admin_log.check_may_read(actor)
    if actor.role == "admin":
        return "", True
    if not actor.org_path:
        raise Forbidden(f"{actor.username} belongs to no organisation")
    outside = session.exec(
        select(func.count())
        .select_from(Organisation)
        .where(~col(Organisation.path).startswith(actor.org_path))
    ).one()
    return actor.org_path, outside == 0


def request_check(engine: Engine, actor: Actor) -> IntegrityCheckRecord:
    """Queue a check of the actor's subtree (or return the one already queued or
    running), logged in the admin log."""
    with engine.session() as session:
        _write_lock(session, actor.org_path or "/")
        org_path, whole = scope_of(session, actor)
        waiting = session.exec(
            select(IntegrityCheckRecord)
            .where(IntegrityCheckRecord.org_path == org_path)
            .where(col(IntegrityCheckRecord.state).in_(ACTIVE))
            .order_by(col(IntegrityCheckRecord.id))
        ).first()
        if waiting is not None:
            session.expunge(waiting)
            return waiting
        now = engine.clock.now()
        check = IntegrityCheckRecord(
            requested_by=actor.username, org_path=org_path, whole=whole, created_at=now
        )
        session.add(check)
        session.flush()
        admin_log.append(
            session,
            actor,
            action="request_integrity_check",
            record=check,
            org_path=org_path,
            before={},
            after={"org_path": org_path or "/", "whole": whole, "state": "queued"},
            at=now,
        )
        session.commit()
        session.refresh(check)
        session.expunge(check)
        return check


def _write_lock(session: Session, key: str) -> None:
    """Two requests at once queue one check: SQLite's write lock up front, a
    transaction-scoped advisory lock per subtree on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('ketnap-integrity:' || :key))"),
            {"key": key},
        )


# ── running ───────────────────────────────────────────────────────────────
def claim(engine: Engine, runner: str) -> int | None:
    """Take the oldest queued check; of two runners only one gets it."""
    with engine.session() as session:
        return queue.claim(session, IntegrityCheckRecord, runner, engine.clock.now())


class _Progress:
    """Cases checked and the subtree's total on the check's row, a few times a second."""

    def __init__(self, engine: Engine, check_id: int) -> None:
        self.engine, self.check_id, self.last = engine, check_id, 0.0

    def __call__(self, done: int, total: int, rows: int) -> None:
        if time.monotonic() - self.last < PROGRESS_SECONDS and 0 < done < total:
            return
        self.last = time.monotonic()
        with self.engine.session() as session:
            session.execute(
                update(IntegrityCheckRecord)
                .where(col(IntegrityCheckRecord.id) == self.check_id)
                .values(done=done, total=total, rows=rows, heartbeat_at=self.engine.clock.now())
            )
            session.commit()


def run_claimed(engine: Engine, check_id: int, public: Ed25519PublicKey | None) -> None:
    """Run a check this runner claimed; it always ends done or failed."""
    with engine.session() as session:
        check = session.get(IntegrityCheckRecord, check_id)
        assert check is not None and check.state == "running"
        session.expunge(check)
    try:
        with engine.session() as session:
            found = integrity.check_subtree(
                session,
                check.org_path,
                _Progress(engine, check_id),
                whole=check.whole,
                public=public,
            )
        _finish(engine, check_id, found)
    except Exception:  # the check must always end in a readable state
        log.exception("integrity check %s failed", check_id)
        _fail(
            engine,
            check_id,
            Text(
                "Lỗi không lường trước khi kiểm tra; hãy chạy lại",
                "Unexpected error while checking; run it again",
            ),
        )


def _finish(engine: Engine, check_id: int, found: integrity.SubtreeCheck) -> None:
    problems = found.problems()
    with engine.session() as session:
        row = session.get(IntegrityCheckRecord, check_id)
        assert row is not None
        before = {"state": row.state}
        row.state, row.done, row.total, row.rows = "done", found.cases, found.cases, found.rows
        row.intact, row.problem_count = not problems, len(problems)
        row.problems = json.dumps(
            [
                {"case_id": p.case_id, "seq": p.seq, "reason": p.reason}
                for p in problems[:KEPT_PROBLEMS]
            ],
            ensure_ascii=False,
        )
        row.notes = json.dumps([{"vi": n.vi, "en": n.en} for n in found.notes], ensure_ascii=False)
        row.finished_at = row.heartbeat_at = now = engine.clock.now()
        session.add(row)
        _log_result(session, row, before, now)
        session.commit()


def _log_result(
    session: Session, row: IntegrityCheckRecord, before: dict[str, Any], at: datetime
) -> None:
    """The result in the admin log, as the user who asked for it."""
    user = session.exec(select(User).where(User.username == row.requested_by)).first()
    if user is None:
        return
    admin_log.append(
        session,
        Actor.of(session, user),
        action="finish_integrity_check",
        record=row,
        org_path=row.org_path,
        before=before,
        after={
            "state": row.state,
            "intact": row.intact,
            "cases": row.done,
            "rows": row.rows,
            "problems": row.problem_count,
        },
        at=at,
    )


def _fail(engine: Engine, check_id: int, why: Text) -> None:
    with engine.session() as session:
        queue.fail(session, IntegrityCheckRecord, check_id, why, engine.clock.now())


_STOPPED = Text(
    "Lần kiểm tra bị dừng giữa chừng (tiến trình chạy nó đã dừng); hãy chạy lại",
    "The check stopped midway (its process ended); run it again",
)


def fail_stale(engine: Engine) -> None:
    with engine.session() as session:
        queue.fail_stale(session, IntegrityCheckRecord, engine.clock.now(), STALE, _STOPPED)
        session.commit()


def tick(engine: Engine, public: Ed25519PublicKey | None, runner: str = "scheduler") -> int:
    """The scheduler's job: fail checks whose runner died, run the queued ones."""
    fail_stale(engine)
    count = 0
    while (check_id := claim(engine, runner)) is not None:
        run_claimed(engine, check_id, public)
        count += 1
    return count


# ── reading (the page and its polling) ────────────────────────────────────
def _of_scope(session: Session, actor: Actor) -> Any:
    org_path, _whole = scope_of(session, actor)
    return select(IntegrityCheckRecord).where(IntegrityCheckRecord.org_path == org_path)


def latest(engine: Engine, actor: Actor) -> IntegrityCheckRecord | None:
    """The actor's subtree's last finished check (done or failed)."""
    with engine.session() as session:
        row: IntegrityCheckRecord | None = session.exec(
            _of_scope(session, actor)
            .where(col(IntegrityCheckRecord.state).not_in(ACTIVE))
            .order_by(col(IntegrityCheckRecord.id).desc())
        ).first()
        if row is not None:
            session.expunge(row)
        return row


def running(engine: Engine, actor: Actor) -> IntegrityCheckRecord | None:
    """The actor's subtree's check queued or running, if any."""
    with engine.session() as session:
        row: IntegrityCheckRecord | None = session.exec(
            _of_scope(session, actor)
            .where(col(IntegrityCheckRecord.state).in_(ACTIVE))
            .order_by(col(IntegrityCheckRecord.id))
        ).first()
        if row is not None:
            session.expunge(row)
        return row


def check_of(engine: Engine, actor: Actor, check_id: int) -> IntegrityCheckRecord | None:
    """A check of the actor's own subtree (another subtree's does not exist for them)."""
    with engine.session() as session:
        org_path, _whole = scope_of(session, actor)
        row = session.get(IntegrityCheckRecord, check_id)
        if row is None or row.org_path != org_path:
            return None
        session.expunge(row)
        return row


def status(row: IntegrityCheckRecord) -> dict[str, Any]:
    """What the page's script polls."""
    finished = row.state in ("done", "failed")
    percent = 100 if finished else (int(row.done * 100 / row.total) if row.total else 0)
    return {
        "id": row.id,
        "state": row.state,
        "done": row.done,
        "total": row.total,
        "rows": row.rows,
        "percent": percent,
        "intact": row.intact,
        "problem_count": row.problem_count,
    }


def problems_of(row: IntegrityCheckRecord) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = json.loads(row.problems or "[]")
    return kept


def notes_of(row: IntegrityCheckRecord) -> list[Text]:
    return [Text(n["vi"], n["en"]) for n in json.loads(row.notes or "[]")]
