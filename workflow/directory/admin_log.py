"""The admin log: who changed which organisation, member, user, village, class record
or target, when, and each field's value before and after (Zulip's RealmAuditLog,
Indico's log entries).

Every action of workflow/directory appends here in its own transaction, so a change
and its entry are committed together or not at all. Nothing updates or deletes an
entry. Auditors and admins read it; an auditor sees only the entries of their subtree
(an entry's `org_path`, the path of the organisation its record belongs to).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from workflow.access import Actor, Forbidden
from workflow.models import AdminLogEntry, User

READERS = ("auditor", "admin")
# The tables whose rows the actions change (SQLModel's names: the class name, lower case).
RECORD_TABLES = (
    "organisation",
    "member",
    "user",
    "village",
    "villagecensus",
    "villageofficial",
    "course",
    "admissiontarget",
    "task_claim",
    "integrity_check",
)
HIDDEN = "***"  # stands for a secret (a password) whose change is logged, not its value
ROOT_PATH = "/"  # records of no organisation (an admin's own account): admins only
MAX_ENTRIES = 50_000  # a CSV download's cap; the page and the API read pages

Values = dict[str, Any]


def snapshot(record: SQLModel, names: Iterable[str]) -> Values:
    """The named fields of a record as JSON values (dates as ISO text)."""
    return {name: _json_value(getattr(record, name)) for name in names}


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def changes(before: Values, after: Values) -> dict[str, dict[str, Any]]:
    """{field: {"old": …, "new": …}} for each field whose value differs."""
    names = [*before, *(n for n in after if n not in before)]
    return {
        name: {"old": before.get(name), "new": after.get(name)}
        for name in names
        if before.get(name) != after.get(name)
    }


def append(
    session: Session,
    actor: Actor,
    *,
    action: str,
    record: SQLModel,
    org_path: str,
    before: Values,
    after: Values,
    at: datetime,
) -> AdminLogEntry | None:
    """Add the entry of one change to the caller's transaction (None: nothing changed).

    `before` is empty for a new record, `after` empty for a deleted one."""
    changed = changes(before, after)
    if not changed:
        return None
    record_id = getattr(record, "id", None)
    assert record_id is not None, "flush the record before logging its change"
    entry = AdminLogEntry(
        recorded_at=at,
        user_id=_user_id(session, actor),
        username=actor.username,
        action=action,
        record_table=str(getattr(record, "__tablename__", type(record).__name__.lower())),
        record_id=record_id,
        org_path=org_path or ROOT_PATH,
        changes=json.dumps(changed, ensure_ascii=False),  # in the record's field order
    )
    session.add(entry)
    return entry


def _user_id(session: Session, actor: Actor) -> int | None:
    return session.exec(select(User.id).where(User.username == actor.username)).first()


# ── reading ───────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Query:
    """Which entries to read: newest first, `limit` of them, older than entry `before`,
    optionally of one table or one record."""

    limit: int = 100
    before: int | None = None
    record_table: str | None = None
    record_id: int | None = None


def check_may_read(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden(f"role {actor.role} may not read the admin log")


def entries(session: Session, actor: Actor, query: Query) -> list[AdminLogEntry]:
    """The entries the actor may read (their subtree; admins: all), newest first."""
    check_may_read(actor)
    statement = select(AdminLogEntry)
    if actor.role != "admin":
        if not actor.org_path:
            return []
        statement = statement.where(col(AdminLogEntry.org_path).startswith(actor.org_path))
    if query.before is not None:
        statement = statement.where(col(AdminLogEntry.id) < query.before)
    if query.record_table is not None:
        statement = statement.where(AdminLogEntry.record_table == query.record_table)
    if query.record_id is not None:
        statement = statement.where(AdminLogEntry.record_id == query.record_id)
    statement = statement.order_by(col(AdminLogEntry.id).desc()).limit(query.limit)
    return list(session.exec(statement))


def changed_fields(entry: AdminLogEntry) -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(entry.changes)
    return loaded
