"""What a recorded reminder becomes, written in the reminder's own transaction: an item
in each recipient's in-app inbox and, for those with an e-mail address, a Delivery row
(the outbox) that workflow.reminders.delivery sends after the commit. Users with
`daily_digest` get their deliveries due at the next `[scheduler] digest_hour`, Vietnam
time, and one mail a day listing them, instead of one mail per reminder.

A newer reminder of the same deadline supersedes the recipient's older open items and
cancels their unsent mails; a deadline met (its row left CaseDeadline) or moved to
another date closes the items and cancels the mails about it (`close_stale`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from workflow.config import Config, SmtpSettings
from workflow.engine import Engine
from workflow.models import CaseDeadline, Delivery, InboxItem, Reminder, User
from workflow.reminders.sql import chunks, table_of

VIETNAM = timedelta(hours=7)

# (reminder id, the reminder's key, its recipients): what the sweep hands to fan_out
Won = tuple[int, tuple[int, str, date, str, int, int], Sequence[User]]
# (case, deadline, user): one person's reminders of one deadline
PersonDeadline = tuple[int, str, int]


@dataclass(frozen=True)
class Outbox:
    """How reminders leave: SMTP settings, the link base, the digest hour."""

    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    base_url: str = "http://127.0.0.1:8000"
    digest_hour: int = 7  # Vietnam local time

    @classmethod
    def from_config(cls, config: Config) -> Outbox:
        return cls(
            config.smtp,
            str(config.web.get("base_url", cls.base_url)),
            int(config.scheduler.get("digest_hour", cls.digest_hour)),
        )

    @property
    def sends_email(self) -> bool:
        return bool(self.smtp.enabled)

    def case_link(self, case_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/cases/{case_id}"

    def inbox_link(self) -> str:
        return f"{self.base_url.rstrip('/')}/inbox"


def next_digest(now: datetime, hour: int) -> datetime:
    """The next digest moment after `now` (naive UTC), at `hour` o'clock in Vietnam."""
    local = now + VIETNAM
    moment = datetime.combine(local.date(), datetime.min.time()) + timedelta(hours=hour)
    if moment <= local:
        moment += timedelta(days=1)
    return moment - VIETNAM


# ── fan-out, in the reminder's transaction ────────────────────────────────
@dataclass
class _Earlier:
    """What the recipients of these cases were already told, and what is still open."""

    told: set[tuple[Any, ...]] = field(default_factory=set)  # (key without cell, user)
    open_items: dict[PersonDeadline, list[int]] = field(default_factory=lambda: defaultdict(list))
    unsent: dict[PersonDeadline, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, session: Session, case_ids: list[int]) -> _Earlier:
        earlier = cls()
        items = (
            sql_select(
                col(InboxItem.id),
                col(InboxItem.user_id),
                col(InboxItem.status),
                col(Reminder.case_id),
                col(Reminder.deadline),
                col(Reminder.due),
                col(Reminder.stage),
                col(Reminder.warn),
            )
            .join(Reminder, col(Reminder.id) == col(InboxItem.reminder_id))
            .where(col(InboxItem.case_id).in_(case_ids))
        )
        for item_id, user_id, status, case_id, deadline, due, stage, warn in session.execute(items):
            earlier.told.add((case_id, deadline, due, stage, warn, user_id))
            if status == "open":
                earlier.open_items[(case_id, deadline, user_id)].append(item_id)
        mails = (
            select(Delivery.id, Delivery.user_id, Reminder.case_id, Reminder.deadline)
            .join(Reminder, col(Reminder.id) == col(Delivery.reminder_id))
            .where(col(Reminder.case_id).in_(case_ids), col(Delivery.status) == "pending")
        )
        for delivery_id, user_id, case_id, deadline in session.exec(mails):
            earlier.unsent[(case_id, deadline, user_id)].append(int(delivery_id or 0))
        return earlier


def fan_out(session: Session, won: Sequence[Won], outbox: Outbox, now: datetime) -> None:
    """Inbox items and e-mail deliveries for newly recorded reminders.

    `won`: (reminder id, key, recipients). A recipient already told of this very stage
    (the case was transferred: new cell, same stage) is skipped; the recipient's older
    open items and unsent mails about the same deadline are superseded.
    """
    if not won:
        return
    earlier = _Earlier.load(session, sorted({key[0] for _, key, _ in won}))
    items: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    superseded: list[int] = []
    cancelled: list[int] = []
    for reminder_id, (case_id, deadline, due, stage, warn, _cell), users in won:
        for user in users:
            assert user.id is not None
            if (case_id, deadline, due, stage, warn, user.id) in earlier.told:
                continue
            superseded += earlier.open_items.pop((case_id, deadline, user.id), [])
            cancelled += earlier.unsent.pop((case_id, deadline, user.id), [])
            items.append(_inbox_row(reminder_id, user, case_id, now))
            if outbox.sends_email and user.email:
                mails.append(_delivery_row(reminder_id, user, outbox, now))
    if superseded:
        close_items(session, superseded, "superseded")
    if cancelled:
        cancel_deliveries(session, cancelled)
    if items:
        session.execute(table_of(InboxItem).insert(), items)
    if mails:
        session.execute(table_of(Delivery).insert(), mails)


def _inbox_row(reminder_id: int, user: User, case_id: int, now: datetime) -> dict[str, Any]:
    return {
        "reminder_id": reminder_id,
        "user_id": user.id,
        "case_id": case_id,
        "status": "open",
        "created_at": now,
    }


def _delivery_row(reminder_id: int, user: User, outbox: Outbox, now: datetime) -> dict[str, Any]:
    digest = bool(user.daily_digest)
    return {
        "reminder_id": reminder_id,
        "user_id": user.id,
        "channel": "email",
        "status": "pending",
        "digest": digest,
        "attempts": 0,
        "next_attempt_at": next_digest(now, outbox.digest_hour) if digest else now,
    }


def close_items(session: Session, ids: Sequence[int], reason: str) -> int:
    """Close these inbox items that are still open, saying why; how many closed."""
    table = table_of(InboxItem)
    total = 0
    for chunk in chunks(ids):
        result = session.execute(
            update(table)
            .where(table.c.id.in_(chunk), table.c.status == "open")
            .values(status="closed", closed_reason=reason)
        )
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


def cancel_deliveries(session: Session, ids: Sequence[int]) -> None:
    """Cancel these deliveries that are not sent yet."""
    table = table_of(Delivery)
    for chunk in chunks(ids):
        session.execute(
            update(table)
            .where(table.c.id.in_(chunk), table.c.status == "pending")
            .values(status="cancelled")
        )


# ── closing what is met or moved ──────────────────────────────────────────
def _gone() -> ColumnElement[bool]:
    """The reminder's deadline is no longer live with that due date."""
    return or_(col(CaseDeadline.id).is_(None), col(CaseDeadline.due) != col(Reminder.due))


def _live_join() -> ColumnElement[bool]:
    return and_(
        col(CaseDeadline.case_id) == col(Reminder.case_id),
        col(CaseDeadline.deadline) == col(Reminder.deadline),
    )


def close_stale(engine: Engine, now: datetime) -> int:
    """Close open inbox items (and cancel unsent mails) whose deadline was met — its row
    left CaseDeadline — or moved to another date. Returns the items closed."""
    with engine.session() as session:
        stale = session.exec(
            select(InboxItem.id, CaseDeadline.id)
            .join(Reminder, col(Reminder.id) == col(InboxItem.reminder_id))
            .outerjoin(CaseDeadline, _live_join())
            .where(col(InboxItem.status) == "open", _gone())
        ).all()
        unsent = session.exec(
            select(Delivery.id)
            .join(Reminder, col(Reminder.id) == col(Delivery.reminder_id))
            .outerjoin(CaseDeadline, _live_join())
            .where(col(Delivery.status) == "pending", _gone())
        ).all()
        if not stale and not unsent:
            return 0
        met = [int(i or 0) for i, live in stale if live is None]
        moved = [int(i or 0) for i, live in stale if live is not None]
        closed = close_items(session, met, "met") + close_items(session, moved, "moved")
        cancel_deliveries(session, [int(i or 0) for i in unsent])
        session.commit()
        return closed
