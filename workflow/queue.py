"""A table of background work as a queue (the imports' jobs, the auditors' integrity
checks): a row is queued, taken by one runner, kept alive by its heartbeat, and ends
done or failed — a failure with its reason in Vietnamese and English.

The tables share the columns this needs: id, state (queued | running | done | failed),
runner, started_at, heartbeat_at, finished_at, error_vi, error_en.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import CursorResult
from sqlmodel import Session, SQLModel

from workflow.text import Text


def _table(model: type[SQLModel]) -> sa.Table:
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]  # SQLModel's table


def claim(session: Session, model: type[SQLModel], runner: str, now: datetime) -> int | None:
    """Take the oldest queued row for `runner` and commit; None when there is none. Two
    runners racing for one row: the UPDATE's `state = 'queued'` holds for one only."""
    table = _table(model)
    queued = session.execute(
        sa.select(table.c.id).where(table.c.state == "queued").order_by(table.c.id).limit(20)
    ).scalars()
    for row_id in list(queued):
        taken = cast(
            CursorResult[Any],
            session.execute(
                sa.update(table)
                .where(table.c.id == row_id, table.c.state == "queued")
                .values(state="running", runner=runner, started_at=now, heartbeat_at=now)
            ),
        )
        if taken.rowcount == 1:
            session.commit()
            return int(row_id)
    session.commit()
    return None


def fail(session: Session, model: type[SQLModel], row_id: int, why: Text, now: datetime) -> None:
    """End the row failed, with its reason, and commit."""
    table = _table(model)
    session.execute(
        sa.update(table)
        .where(table.c.id == row_id)
        .values(state="failed", error_vi=why.vi, error_en=why.en, finished_at=now, heartbeat_at=now)
    )
    session.commit()


def fail_stale(
    session: Session, model: type[SQLModel], now: datetime, stale: timedelta, why: Text
) -> None:
    """End failed the running rows whose runner has been silent for `stale` (its process
    ended), without committing: the caller may do more in the same transaction."""
    table = _table(model)
    session.execute(
        sa.update(table)
        .where(table.c.state == "running", table.c.heartbeat_at < now - stale)
        .values(state="failed", finished_at=now, error_vi=why.vi, error_en=why.en)
    )
