"""A case's stays in the states it has left (models.CaseStay): how long each step held
it, in days and in working days.

One function makes a stay (`stay`), used by both write paths beside the history row
that ends it (Engine.advance, Engine.replay), and one derives every stay from the
history alone (`rebuild`: the migration that added the table, and the proof that the
written stays are the history's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from workflow import rules
from workflow.models import Case as CaseRow
from workflow.models import CaseStay, HistoryEvent, Organisation

_STAYS = CaseStay.__table__  # type: ignore[attr-defined]
_HISTORY = HistoryEvent.__table__  # type: ignore[attr-defined]
_CASES = CaseRow.__table__  # type: ignore[attr-defined]
_ORGANISATIONS = Organisation.__table__  # type: ignore[attr-defined]
INSERT = sa.insert(_STAYS)
_BATCH = 5_000


def stay(
    case_id: int,
    org_path: str,
    state: str,
    entered_on: date,
    left_on: date,
    event: str,
    next_state: str,
) -> dict[str, Any]:
    """The stay that ends when `event` moves the case from `state` to `next_state`."""
    return {
        "case_id": case_id,
        "org_path": org_path,
        "state": state,
        "entered_on": entered_on,
        "left_on": left_on,
        "left_by": event,
        "next_state": next_state,
        "days": max((left_on - entered_on).days, 0),
        "working_days": rules.working_days_between(entered_on, left_on),
    }


def rebuild(connection: Connection) -> int:
    """Every stay derived from the history anew (the table emptied first): each state
    change ends the stay begun by the previous one, in the cell the case was in then —
    the nomination's cell, moved by each transfer. Returns the stays written."""
    connection.execute(sa.delete(_STAYS))
    paths: dict[int, str] = dict(
        connection.execute(sa.select(_ORGANISATIONS.c.id, _ORGANISATIONS.c.path)).all()
    )
    batch: list[dict[str, Any]] = []
    written = 0
    for row in from_history(connection, paths):
        batch.append(row)
        if len(batch) == _BATCH:
            connection.execute(INSERT, batch)
            written, batch = written + len(batch), []
    if batch:
        connection.execute(INSERT, batch)
    return written + len(batch)


def from_history(connection: Connection, paths: dict[int, str]) -> Iterator[dict[str, Any]]:
    """The stays the history rows tell, case by case, in order."""
    h = _HISTORY.c
    query = (
        sa.select(h.case_id, h.event, h.from_state, h.to_state, h.on, h.data)
        .where(
            sa.or_(
                h.from_state.is_(None),
                h.from_state != h.to_state,
                h.event.in_(("nominate", "transfer")),
            )
        )
        .order_by(h.case_id, h.seq)
    )
    case_id: int | None = None
    path, since = "", date.min
    for row in connection.execute(query).yield_per(_BATCH):
        if row.case_id != case_id or row.from_state is None:
            case_id, since = row.case_id, row.on
            path = paths.get(json.loads(row.data).get("cell_id"), "")
            continue
        if row.from_state != row.to_state:
            yield stay(row.case_id, path, row.from_state, since, row.on, row.event, row.to_state)
            since = row.on
        if row.event == "transfer":
            path = paths.get(json.loads(row.data).get("to_cell_id"), path)
