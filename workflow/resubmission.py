"""The same act sent twice — a double tap on a slow network, a client retrying after a
timeout — is answered with the first one's result instead of a conflict.

A case's version says which state of the case an act was decided on. When the claim
of version v fails because v has moved on, and the act that moved it from v (history
row v + 1) was this very act — the same user, event, date, data and note — then this
request is that act again: nothing is written and the caller gets what the first one
got. Any other act from a stale version stays a Conflict ("someone else changed the
case"). No key is needed: the version the form or API call carries already names
the case as the user saw it, and two different acts from one version cannot both
be recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, cast

from sqlalchemy import Table, select

from workflow import history, process, schema
from workflow.access import Actor
from workflow.models import Case, HistoryEvent
from workflow.refusal import Refusal

# Core tables, not ORM queries: these reads work on a Session and on a Connection alike
_HISTORY = cast(Table, HistoryEvent.__table__)  # type: ignore[attr-defined]
_CASE = cast(Table, Case.__table__)  # type: ignore[attr-defined]


class Reader(Protocol):
    """A Session or a Connection: what runs a SELECT."""

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Earlier:
    """The first sending's result: the case's columns as they are now, its history
    row's, and why its vote failed when it did."""

    case: Mapping[str, Any]
    row: Mapping[str, Any]
    failed_vote: Refusal | None


def _row(bind: Reader, case_id: int | None, seq: int) -> Mapping[str, Any] | None:
    found: Mapping[str, Any] | None = (
        bind.execute(select(_HISTORY).where(_HISTORY.c.case_id == case_id, _HISTORY.c.seq == seq))
        .mappings()
        .first()
    )
    return found


def _case(bind: Reader, case_id: int | None) -> Mapping[str, Any] | None:
    found: Mapping[str, Any] | None = (
        bind.execute(select(_CASE).where(_CASE.c.id == case_id)).mappings().first()
    )
    return found


def earlier_act(
    bind: Reader,
    conflict: Exception,
    case_id: int,
    expected: int,
    actor: Actor,
    event: str,
    parsed: dict[str, Any],
    on: date,
    note: str | None,
) -> Earlier:
    """The act recorded from version `expected` if it is this one; else `conflict` is
    raised again (the caller's Conflict, unchanged)."""
    row, case = _row(bind, case_id, expected + 1), _case(bind, case_id)
    if row is None or case is None or not _same(row, actor, event, parsed, on, note):
        raise conflict
    return Earlier(case, row, _failed_vote(row))


def earlier_nomination(
    bind: Reader,
    refusal: Refusal,
    case_id: int | None,
    actor: Actor,
    parsed: dict[str, Any],
    on: date,
    note: str | None,
) -> Earlier:
    """A nomination refused because the person already has an open case (`case_id`):
    when that case was opened by this very nomination (same user, date, data, note),
    the first one's result; else the refusal is raised again."""
    row, case = _row(bind, case_id, 1), _case(bind, case_id)
    if row is None or case is None or not _same(row, actor, "nominate", parsed, on, note):
        raise refusal
    return Earlier(case, row, None)


def _same(
    row: Mapping[str, Any],
    actor: Actor,
    event: str,
    parsed: dict[str, Any],
    on: date,
    note: str | None,
) -> bool:
    return bool(
        row["outcome"] in ("accepted", "failed_vote")
        and row["actor"] == actor.username
        and row["event"] == event
        and row["on"] == on
        and (row["note"] or None) == note
        and row["data"] == history.canonical_data(schema.to_json(parsed))
    )


def _failed_vote(row: Mapping[str, Any]) -> Refusal | None:
    if row["outcome"] != "failed_vote":
        return None
    spec = process.event(row["event"])
    rule = spec.vote_guard if spec is not None and spec.vote_guard else "two_thirds"
    guard = next((g for g in spec.guards if g.id == rule), None) if spec else None
    return Refusal(
        rule,
        guard.source if guard else "",
        "Lần biểu quyết này đã được ghi lại và không đạt hai phần ba",
        "This vote was already recorded and fell short of two-thirds",
        "votes_for",
    )
