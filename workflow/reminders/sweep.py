"""One reminder sweep, for the clock's `today`: close what is met or moved, find the
deadlines that need a reminder (workflow.reminders.due), record each reminder exactly
once and fan it out to inboxes and the outbox, then send the e-mails that are due.

Recording: INSERT ... ON CONFLICT DO NOTHING on the reminder's unique key, and only for
the rows that went in, the inbox items and e-mail deliveries (workflow.reminders.outbox),
in the same transaction. Two sweeps at once — threads, web workers, the web process and
`ketnap scheduler`, on SQLite or PostgreSQL — can both try; one row wins. SweepDay(today)
then records that today's reminders are all recorded, so tomorrow's query reads only
what changed since.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from workflow.config import Config
from workflow.engine import Engine
from workflow.models import Reminder, SweepDay, User
from workflow.reminders.audience import Audience
from workflow.reminders.delivery import DeliveryReport, deliver_pending
from workflow.reminders.due import Due, sweep_query
from workflow.reminders.outbox import Outbox, close_stale, fan_out
from workflow.reminders.sql import as_date, chunks, dialect_insert, table_of
from workflow.rules import in_force

CHUNK = 200  # reminders recorded per transaction: short write locks on SQLite
KEY_COLUMNS = ("case_id", "deadline", "due", "stage", "warn", "cell_id")


@dataclass(frozen=True)
class Recorded:
    """A reminder this sweep recorded (or, in a dry run, would record) and its audience."""

    due: Due
    recipients: tuple[User, ...]
    reminder_id: int | None = None


def record(
    session: Session,
    dues: Sequence[Due],
    audience: Audience,
    outbox: Outbox,
    now: datetime,
    today: date,
) -> list[Recorded]:
    """Insert the reminders; fan out only those whose row went in. The caller commits.

    The INSERT is the transaction's first statement, so on SQLite it takes the write
    lock before anything is read (no stale snapshot to upgrade).
    """
    if not dues:
        return []
    table = table_of(Reminder)
    rows = [
        {
            "case_id": d.case_id,
            "deadline": d.deadline,
            "due": d.due,
            "stage": d.stage,
            "warn": d.warn,
            "cell_id": d.cell_id,
            "cause": d.cause,
            "swept_on": today,
            "created_at": now,
        }
        for d in dues
    ]
    statement = (
        dialect_insert(session)(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=list(KEY_COLUMNS))
        .returning(table.c.id, *(table.c[name] for name in KEY_COLUMNS))
    )
    by_key = {d.key: d for d in dues}
    won: list[tuple[int, Due]] = []
    for row in session.execute(statement):
        key = (row.case_id, row.deadline, as_date(row.due), row.stage, row.warn, row.cell_id)
        won.append((row.id, by_key[key]))
    won.sort(key=lambda pair: pair[0])
    plan = [(reminder_id, due, audience.recipients(due)) for reminder_id, due in won]
    fan_out(session, [(rid, due.key, users) for rid, due, users in plan], outbox, now)
    return [Recorded(due, tuple(users), rid) for rid, due, users in plan]


def _mark_swept(engine: Engine, today: date, started_at: datetime) -> None:
    """Today's sweep completed: tomorrow's reads from here. The first completed sweep
    of a day keeps its start (any completed sweep's start is a safe one)."""
    with engine.session() as session:
        table = table_of(SweepDay)
        session.execute(
            dialect_insert(session)(table)
            .values(day=today, started_at=started_at)
            .on_conflict_do_nothing(index_elements=["day"])
        )
        session.commit()


@dataclass
class SweepResult:
    today: date
    dry_run: bool
    reminders: list[Recorded]
    closed: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def count(self) -> int:
        return len(self.reminders)

    def summary(self) -> str:
        """The last line, which scripts read: always `N reminders sent` (or `... would
        be sent`), whatever N, so one pattern matches."""
        return f"{self.count} reminders {'would be sent' if self.dry_run else 'sent'}"


def sweep(engine: Engine, config: Config | None = None, *, dry_run: bool = False) -> SweepResult:
    """One full sweep at the engine clock's moment: close what is met or moved, record
    and fan out new reminders, then send the e-mails that are due (with back-off)."""
    from workflow import config as config_module

    config = config or config_module.load()
    now, today = engine.clock.now(), engine.clock.today()
    outbox = Outbox.from_config(config)
    with engine.session() as session:
        dues = sweep_query(session, today, in_force(engine.params, today))
        audience = Audience.load(session, dues)
    if dry_run:
        planned = [Recorded(d, tuple(audience.recipients(d))) for d in dues]
        return SweepResult(today, True, planned)
    closed = close_stale(engine, now)
    recorded: list[Recorded] = []
    for chunk in chunks(dues, CHUNK):
        with engine.session() as session:
            recorded += record(session, chunk, audience, outbox, now, today)
            session.commit()
    _mark_swept(engine, today, now)
    delivery = deliver_pending(engine, outbox)
    return SweepResult(today, False, recorded, closed, delivery)


def describe(items: Iterable[Recorded]) -> Iterator[str]:
    """One line per reminder, for the CLI."""
    for item in items:
        due = item.due
        stage = f"{due.stage} −{due.warn}d" if due.warn else due.stage
        why = " (failed confirmation votes)" if due.cause == "failed_votes" else ""
        to = ", ".join(u.username for u in item.recipients) or "(no recipient)"
        yield (
            f"#{due.case_id:<6} {due.deadline:<22} {stage:<15} hạn {due.due:%d/%m/%Y} → {to}{why}"
        )
