"""Sending the outbox: the e-mail Delivery rows that are due, over SMTP, with retries.

- a sender CLAIMS due rows with one UPDATE ... RETURNING that moves `next_attempt_at`
  forward by a lease — concurrent senders never take the same row (PostgreSQL re-checks
  the WHERE on the locked row; SQLite serialises writers);
- success marks the row `sent` at once, a message at a time;
- SMTP down or a 4xx answer leaves it `pending` with exponential back-off (5 min, 10,
  20 … capped at 6 h): nothing is lost, nothing sent twice; a 5xx refusal of the
  message marks it `failed` (the inbox still has it). Only a crash between the SMTP
  peer's "250 OK" and our commit could resend one message after the lease — with
  the same Message-ID (messages.message_id), so the receiver drops the duplicate.
- a user's digest deliveries claimed together leave as one mail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from workflow.engine import Engine
from workflow.models import Delivery, User
from workflow.reminders.mailer import ConnectionTrouble, Later, Mailer, Refused
from workflow.reminders.messages import ReminderView, compose, views
from workflow.reminders.outbox import Outbox
from workflow.reminders.sql import table_of

FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
LEASE = timedelta(minutes=10)  # a claimed delivery is retried after this if its sender died
CLAIM_BATCH = 200


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after `attempts` failed ones: 5 min, doubling, ≤ 6 h."""
    return min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_RETRY)


@dataclass
class DeliveryReport:
    sent: int = 0  # deliveries (reminder × person) that left
    retrying: int = 0
    failed: int = 0
    messages: int = 0  # mails handed to the SMTP server
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"e-mail: {self.sent} sent, {self.retrying} waiting to retry, {self.failed} failed"


@dataclass(frozen=True)
class _Claimed:
    id: int
    reminder_id: int
    user_id: int
    attempts: int
    digest: bool


def deliver_pending(engine: Engine, outbox: Outbox) -> DeliveryReport:
    """Send the e-mails that are due now; leave the rest for a later sweep."""
    report = DeliveryReport()
    if not outbox.sends_email:
        return report
    sending = _Sending(engine, outbox, engine.clock.now(), engine.clock.today(), report)
    while True:
        claimed = _claim(engine, sending.now)
        if not claimed:
            return report
        if not sending.send(claimed):
            return report  # the server is unreachable: the rest waits for its back-off
        if len(claimed) < CLAIM_BATCH:
            return report


def _claim(engine: Engine, now: datetime) -> list[_Claimed]:
    """Take due deliveries: the UPDATE is this transaction's first and only statement."""
    table = table_of(Delivery)
    due_ids = (
        select(Delivery.id)
        .where(
            col(Delivery.status) == "pending",
            col(Delivery.channel) == "email",
            col(Delivery.next_attempt_at) <= now,
        )
        .order_by(col(Delivery.id))
        .limit(CLAIM_BATCH)
        .scalar_subquery()
    )
    statement = (
        update(table)
        .where(
            table.c.id.in_(due_ids),
            table.c.status == "pending",
            table.c.next_attempt_at <= now,
        )
        .values(attempts=table.c.attempts + 1, next_attempt_at=now + LEASE)
        .returning(
            table.c.id, table.c.reminder_id, table.c.user_id, table.c.attempts, table.c.digest
        )
    )
    with engine.session() as session:
        rows = session.execute(statement).all()
        session.commit()
    return sorted((_Claimed(*row) for row in rows), key=lambda c: c.id)


Mail = tuple[User, list[_Claimed]]  # one message: its recipient and the deliveries in it


@dataclass
class _Sending:
    """One sender's run: sends claimed deliveries and records each outcome at once."""

    engine: Engine
    outbox: Outbox
    now: datetime
    today: date
    report: DeliveryReport

    def send(self, claimed: list[_Claimed]) -> bool:
        """Send the claimed deliveries; False when the server could not be reached."""
        with self.engine.session() as session:
            texts = views(session, (c.reminder_id for c in claimed))
            user_ids = sorted({c.user_id for c in claimed})
            query = select(User).where(col(User.id).in_(user_ids))
            users = {u.id: u for u in session.exec(query)}
        mails = self._mails(claimed, users, texts)
        handled: set[int] = set()
        try:
            with Mailer(self.outbox.smtp) as mailer:
                for user, items in mails:
                    message = self._compose(user, items, texts)
                    if message is not None:
                        self._send_one(mailer, message, items)
                    handled.update(i.id for i in items)
        except ConnectionTrouble as error:
            waiting = [i for _, items in mails for i in items if i.id not in handled]
            self._wait(waiting, str(error))
            return False
        return True

    def _mails(
        self, claimed: list[_Claimed], users: dict[Any, User], texts: dict[int, ReminderView]
    ) -> list[Mail]:
        """The messages to send: one per delivery, one per user for their digest ones.
        A delivery nobody can receive any more fails here."""
        mails: list[Mail] = []
        digests: dict[int, list[_Claimed]] = defaultdict(list)
        for item in claimed:
            user = users.get(item.user_id)
            if user is None or not user.email or not user.active or item.reminder_id not in texts:
                _finish(self.engine, [item], "failed", self.now, "no e-mail address")
                self.report.failed += 1
            elif item.digest:
                digests[item.user_id].append(item)
            else:
                mails.append((user, [item]))
        return mails + [(users[uid], items) for uid, items in digests.items()]

    def _compose(
        self, user: User, items: list[_Claimed], texts: dict[int, ReminderView]
    ) -> EmailMessage | None:
        """The message, or None when it cannot be written (bad data stored in a name or
        an address): that one is marked failed, the sweep goes on with the others."""
        try:
            message = compose(user, [texts[i.reminder_id] for i in items], self.today, self.outbox)
            message["X-Ketnap-Deliveries"] = ",".join(str(i.id) for i in items)
        except (ValueError, TypeError, LookupError) as error:
            problem = f"cannot compose: {type(error).__name__}: {error}"[:500]
            _finish(self.engine, items, "failed", self.now, problem)
            self.report.failed += len(items)
            self.report.errors.append(problem)
            return None
        return message

    def _send_one(self, mailer: Mailer, message: EmailMessage, items: list[_Claimed]) -> None:
        try:
            mailer.send(message)
        except Refused as error:
            _finish(self.engine, items, "failed", self.now, str(error))
            self.report.failed += len(items)
            self.report.errors.append(str(error))
        except Later as error:
            self._wait(items, str(error))
        else:
            _finish(self.engine, items, "sent", self.now)
            self.report.sent += len(items)
            self.report.messages += 1

    def _wait(self, items: list[_Claimed], error: str) -> None:
        _retry(self.engine, items, self.now, error)
        self.report.retrying += len(items)
        self.report.errors.append(error)


def _finish(
    engine: Engine, items: Sequence[_Claimed], status: str, now: datetime, error: str | None = None
) -> None:
    table = table_of(Delivery)
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    with engine.session() as session:
        session.execute(update(table).where(table.c.id.in_([i.id for i in items])).values(**values))
        session.commit()


def _retry(engine: Engine, items: Sequence[_Claimed], now: datetime, error: str) -> None:
    table = table_of(Delivery)
    by_attempts: dict[int, list[int]] = defaultdict(list)
    for item in items:
        by_attempts[item.attempts].append(item.id)
    with engine.session() as session:
        for attempts, ids in by_attempts.items():
            session.execute(
                update(table)
                .where(table.c.id.in_(ids), table.c.status == "pending")
                .values(next_attempt_at=now + backoff(attempts), last_error=error[:500])
            )
        session.commit()
