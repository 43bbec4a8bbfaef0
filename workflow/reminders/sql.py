"""The SQL the reminder modules share: a model's Core table (for INSERT / UPDATE ...
RETURNING), the dialect's INSERT ... ON CONFLICT, and id lists cut to a length every
database accepts in one IN (...)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table
from sqlmodel import Session

IN_LIST = 500  # ids per IN (...): well under SQLite's bound-parameter limit


def table_of(model: type[Any]) -> Table:
    """The Core table of a SQLModel class (for INSERT/UPDATE ... RETURNING)."""
    return cast(Table, model.__table__)


def dialect_insert(session: Session) -> Any:
    """The INSERT of the session's dialect, which knows ON CONFLICT DO NOTHING."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise RuntimeError(f"reminders need SQLite or PostgreSQL, not {name}")


def chunks(items: Sequence[Any], size: int = IN_LIST) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def as_date(value: Any) -> date:
    # SQLite hands a UNION's date column back as text
    return value if isinstance(value, date) else date.fromisoformat(str(value))
