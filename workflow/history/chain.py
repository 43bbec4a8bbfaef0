"""The append-only, hash-chained history of each case, and what the case row must say.

Each row's hash is SHA-256 over the previous row's hash and a canonical JSON of the
row itself, so editing, deleting or reordering any row breaks every later link.
Chains are per case: writers on different cases never wait for each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from workflow.history import replay
from workflow.models import Case, HistoryEvent, Person

GENESIS = "0" * 64


def canonical_data(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_HASHED = (
    "case_id",
    "seq",
    "event",
    "outcome",
    "from_state",
    "to_state",
    "on",
    "recorded_at",
    "actor",
    "data",
    "note",
    "prev_hash",
)


def _canonical_row(row: HistoryEvent) -> str:
    fields: dict[str, Any] = {name: getattr(row, name) for name in _HASHED}
    # bulk writers (bench/datagen) pass plain namespaces; rows from before the column
    # was added hash without it
    fields["via"] = getattr(row, "via", None)
    return _canonical(fields)


def _canonical(values: Mapping[str, Any]) -> str:
    fields: dict[str, Any] = {name: values[name] for name in _HASHED}
    fields["on"], fields["recorded_at"] = _iso(fields["on"]), _iso(fields["recorded_at"])
    if values.get("via") is not None:
        fields["via"] = values["via"]
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def hash_values(values: Mapping[str, Any]) -> str:
    """The hash of a history row given as its column values (the engine's Core path):
    the same as `compute_hash` of the row."""
    text = values["prev_hash"] + _canonical(values)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return value.isoformat()


def compute_hash(row: HistoryEvent) -> str:
    return hashlib.sha256((row.prev_hash + _canonical_row(row)).encode("utf-8")).hexdigest()


def seal(row: HistoryEvent) -> HistoryEvent:
    row.hash = compute_hash(row)
    return row


@dataclass(frozen=True)
class ChainCheck:
    case_id: int
    intact: bool
    broken_at: int | None  # the seq of the first row that does not verify
    rows: int
    reason: str = ""


def _walk(case_id: int, rows: list[HistoryEvent]) -> ChainCheck | str:
    """The chain's last hash, or the first row that does not verify."""
    previous = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return ChainCheck(case_id, False, expected_seq, len(rows), "missing row")
        if row.prev_hash != previous:
            return ChainCheck(case_id, False, row.seq, len(rows), "link to previous row broken")
        if compute_hash(row) != row.hash:
            return ChainCheck(case_id, False, row.seq, len(rows), "row altered")
        previous = row.hash
    return previous


def verify_rows(
    case_id: int,
    rows: list[HistoryEvent],
    head_hash: str | None = None,
    state: str | None = None,
    *,
    case: Case | None = None,
    person: Person | None = None,
) -> ChainCheck:
    """Recompute one case's chain; name the first broken row. Given the case row (or
    only its `state`) and the person row, also check that they say what the history
    says: state, cell, version, dates and the person's particulars (a hand edit)."""
    previous = _walk(case_id, rows)
    if isinstance(previous, ChainCheck):
        return previous
    if case is not None:
        head_hash, state = case.head_hash, case.state
    if head_hash is not None and previous != head_hash:
        broken = len(rows) + 1 if rows else 1
        return ChainCheck(case_id, False, broken, len(rows), "latest rows deleted")
    if not rows:
        return ChainCheck(case_id, True, None, 0)
    if case is None and person is None:
        if state is not None and rows[-1].to_state != state:
            reason = f"case state edited: {state}, history says {rows[-1].to_state}"
            return ChainCheck(case_id, False, rows[-1].seq, len(rows), reason)
        return ChainCheck(case_id, True, None, len(rows))
    edited = replay.disagreements(replay.expected(rows), case, person)
    if edited:
        return ChainCheck(case_id, False, rows[-1].seq, len(rows), "; ".join(edited))
    return ChainCheck(case_id, True, None, len(rows))


def rows_of(session: Session, case_id: int) -> list[HistoryEvent]:
    query = select(HistoryEvent).where(HistoryEvent.case_id == case_id).order_by(HistoryEvent.seq)  # type: ignore[arg-type]
    return list(session.exec(query))


def verify_all(session: Session, batch: int = 5000) -> list[ChainCheck]:
    """Every broken case chain in the database (an empty list: all intact), each case
    and person row checked against its history. The ledger is checked apart
    (`ledger.verify`): this finds what a case's own rows can show.

    Two streams ordered by case id, merged: the cases with their persons, and the
    history rows; memory holds one case's rows at a time, whatever the database's size.
    """
    broken: list[ChainCheck] = []
    cases = session.exec(
        select(Case, Person)
        .join(Person, col(Person.id) == Case.person_id, isouter=True)
        .order_by(col(Case.id))
        .execution_options(yield_per=batch)
    )
    pending = next(cases, None)
    for case_id, rows in _rows_by_case(session, batch):
        while pending is not None and (pending[0].id or 0) < case_id:
            _no_rows(broken, pending[0])
            pending = next(cases, None)
        if pending is not None and pending[0].id == case_id:
            case, person = pending
            pending = next(cases, None)
        else:
            case, person = None, None
        check = verify_rows(case_id, rows, case=case, person=person)
        if not check.intact:
            broken.append(check)
    while pending is not None:
        _no_rows(broken, pending[0])
        pending = next(cases, None)
    return broken


def _rows_by_case(session: Session, batch: int) -> Iterator[tuple[int, list[HistoryEvent]]]:
    """The history, one case at a time, in case id order."""
    query = select(HistoryEvent).order_by(col(HistoryEvent.case_id), col(HistoryEvent.seq))
    current: list[HistoryEvent] = []
    for row in session.exec(query.execution_options(yield_per=batch)):
        if current and row.case_id != current[0].case_id:
            yield current[0].case_id, current
            current = []
        current.append(row)
    if current:
        yield current[0].case_id, current


def _no_rows(broken: list[ChainCheck], case: Case) -> None:
    if case.head_hash and case.id is not None:
        broken.append(ChainCheck(case.id, False, 1, 0, "all rows deleted"))
