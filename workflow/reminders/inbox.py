"""A user's in-app inbox of reminders: what is open, done or closed, the open count
(the menu's badge), marking one's own item done, and the open reminders of a case
(the case page's flags). Only cases the user may still see are shown: after a
transfer the old cell's items fade out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from workflow import access
from workflow.access import Actor
from workflow.engine import Engine
from workflow.models import Case, Delivery, InboxItem, User
from workflow.reminders.messages import ReminderView, views
from workflow.reminders.sql import table_of
from workflow.text import Text

CLOSED_REASONS: dict[str, Text] = {
    "met": Text("Đã thực hiện hoặc không còn áp dụng", "Done or no longer applies"),
    "moved": Text("Thời hạn đã thay đổi", "The deadline moved"),
    "superseded": Text("Đã có nhắc việc mới hơn", "A newer reminder replaced it"),
}


@dataclass(frozen=True)
class InboxEntry:
    item_id: int
    status: str  # open | done | closed
    closed_reason: str | None
    created_at: datetime
    done_at: datetime | None
    view: ReminderView

    def closed_label(self, lang: str = "vi") -> str:
        return CLOSED_REASONS.get(self.closed_reason or "", Text("", "")).say(lang)


def _inbox_query(user_id: int, actor: Actor) -> Any:
    # Only cases the user may still see: after a transfer the old cell's items fade out.
    return (
        select(InboxItem)
        .join(Case, col(Case.id) == col(InboxItem.case_id))
        .where(col(InboxItem.user_id) == user_id, access.visible_cases(actor))
    )


def inbox(
    session: Session, user_id: int, actor: Actor, *, status: str | None = "open", limit: int = 200
) -> list[InboxEntry]:
    """A user's inbox, most urgent first (`status=None`: every item, newest first)."""
    query = _inbox_query(user_id, actor)
    if status is not None:
        query = query.where(col(InboxItem.status) == status)
    items: list[InboxItem] = list(
        session.exec(query.order_by(col(InboxItem.id).desc()).limit(limit))
    )
    texts = views(session, (i.reminder_id for i in items))
    entries = [
        InboxEntry(
            i.id or 0, i.status, i.closed_reason, i.created_at, i.done_at, texts[i.reminder_id]
        )
        for i in items
        if i.reminder_id in texts
    ]
    if status == "open":
        entries.sort(key=lambda e: (e.view.due, e.item_id))
    return entries


def open_count(session: Session, user_id: int, actor: Actor) -> int:
    """How many open reminders the user has (the dashboard's badge)."""
    query = _inbox_query(user_id, actor).where(col(InboxItem.status) == "open")
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def mark_done(engine: Engine, item_id: int, *, acting_user: User) -> bool:
    """The user marks their own item done, in one transaction of its own; their unsent
    mail about it is cancelled. False, and nothing written, when the item is not theirs
    (or does not exist): the same answer, so existence does not leak.

    The item itself records the act (status, done_at) and whose it is: only its owner
    may mark it, so no separate log row is needed."""
    with engine.session() as session:
        item = session.get(InboxItem, item_id)
        if item is None or acting_user.id is None or item.user_id != acting_user.id:
            return False
        if item.status == "open":
            item.status, item.done_at = "done", engine.clock.now()
            session.add(item)
            _cancel_unsent_mail(session, item.reminder_id, acting_user.id)
            session.commit()
        return True


def _cancel_unsent_mail(session: Session, reminder_id: int, user_id: int) -> None:
    table = table_of(Delivery)
    session.execute(
        update(table)
        .where(
            table.c.reminder_id == reminder_id,
            table.c.user_id == user_id,
            table.c.status == "pending",
        )
        .values(status="cancelled")
    )


@dataclass(frozen=True)
class CaseReminder:
    """An open reminder of a case, with the people who have it in their inbox."""

    view: ReminderView
    recipients: tuple[str, ...]


def case_reminders(session: Session, case_id: int) -> list[CaseReminder]:
    """The case's reminders still open in someone's inbox (for the case page's flags)."""
    query = (
        select(InboxItem.reminder_id, User.username, User.full_name)
        .join(User, col(User.id) == col(InboxItem.user_id))
        .where(col(InboxItem.case_id) == case_id, col(InboxItem.status) == "open")
    )
    people: dict[int, list[str]] = defaultdict(list)
    for reminder_id, username, full_name in session.exec(query):
        people[reminder_id].append(full_name or username)
    texts = views(session, people)
    return sorted(
        (
            CaseReminder(texts[rid], tuple(sorted(names)))
            for rid, names in people.items()
            if rid in texts
        ),
        key=lambda r: (r.view.due, r.view.deadline),
    )
