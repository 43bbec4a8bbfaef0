"""One append-only chain over every case's history rows, in commit order.

Each history row, in the transaction that writes it, gets a ledger entry: its case, its
seq, its hash, chained to the previous entry of ANY case. A case's own chain lives in
its own rows, so whoever can write the database can delete the case, cut its last rows
(rolling the version back) or rewrite it and recompute its hashes forward, and the case
still verifies; the ledger then no longer agrees with the history, and rewriting the
ledger too moves its head away from every signed checkpoint (workflow.history.signing).

Concurrency: entries must chain in commit order, so appending holds the ledger's head
until the commit. On PostgreSQL a transaction-level advisory lock (one constant key)
serialises the appends of concurrent transactions; the engine appends last, right before
its commit, so the lock is held for the INSERT and the COMMIT only. SQLite already
serialises writers (the engine's first statement takes the write lock). The primary key
on `seq` makes a fork impossible even if the lock were skipped: the second fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, func, insert, text
from sqlalchemy import cast as sql_cast
from sqlmodel import Session, col, select

from workflow.history.chain import GENESIS, ChainCheck
from workflow.models import HistoryEvent, LedgerEntry

# pg_advisory_xact_lock's key: "ketnap-ledger" as 8 bytes, any constant would do.
LOCK_KEY = int.from_bytes(b"ktnledgr", "big", signed=True)


_LOCK = select(func.pg_advisory_xact_lock(LOCK_KEY))
_INSERT = insert(LedgerEntry)  # built once: SQLAlchemy caches compiled SQL, not statements
_HEAD = select(LedgerEntry.seq, LedgerEntry.hash).order_by(col(LedgerEntry.seq).desc()).limit(1)


def entry_hash(entry: LedgerEntry) -> str:
    return _hash(
        entry.seq,
        entry.case_id,
        entry.case_seq,
        entry.history_hash,
        entry.recorded_at,
        entry.prev_hash,
    )


def _hash(
    seq: int, case_id: int, case_seq: int, history_hash: str, recorded_at: datetime, prev: str
) -> str:
    stamp = recorded_at.replace(tzinfo=None).isoformat(timespec="microseconds")
    body = f"{seq}|{case_id}|{case_seq}|{history_hash}|{stamp}"
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def head(session: Session) -> LedgerEntry | None:
    query = select(LedgerEntry).order_by(col(LedgerEntry.seq).desc()).limit(1)
    return session.exec(query).first()


class Unread:
    """The ledger's head was not read by the caller."""


UNREAD = Unread()


def append(session: Session, row: HistoryEvent) -> LedgerEntry:
    """Chain `row` (already sealed) onto the ledger, in the caller's transaction."""
    connection = session.connection()  # Core on the session's connection: no ORM flush
    if connection.dialect.name == "postgresql":
        # the act's own rows first, so that only the ledger's INSERT and the COMMIT
        # happen while this transaction holds the ledger (concurrent acts queue there)
        session.flush()
    return LedgerEntry(**append_to(connection, row.case_id, row.seq, row.hash, row.recorded_at))


def append_to(
    connection: Connection,
    case_id: int,
    case_seq: int,
    history_hash: str,
    recorded_at: datetime,
    head: str | Unread | None = UNREAD,
) -> dict[str, Any]:
    """Chain one history row onto the ledger on `connection` (Core, no Session).

    `head`: the ledger's head as `HEAD_TEXT` reads it ("<seq> <hash>", None for an empty
    ledger) when the caller read it already in a statement that held SQLite's write
    lock (the engine's claim returns it); otherwise it is read here, after the lock.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK)
        head = UNREAD  # only a read after the lock sees the last committed entry
    # Entries are INSERTed at once (Core, not a pending ORM object), so the head read
    # needs no flush of the act's other rows: entries written earlier in this unit of
    # work (an import's batch) are read back, and a rolled-back SAVEPOINT takes its
    # entry with it. The history row itself goes out with the commit's flush.
    if isinstance(head, Unread):
        last = connection.execute(_HEAD).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    elif head is None:
        seq, prev = 1, GENESIS
    else:
        seq_text, prev = head.split(" ", 1)
        seq = int(seq_text) + 1
    values = {
        "seq": seq,
        "case_id": case_id,
        "case_seq": case_seq,
        "history_hash": history_hash,
        "recorded_at": recorded_at,
        "prev_hash": prev,
        "hash": _hash(seq, case_id, case_seq, history_hash, recorded_at, prev),
    }
    connection.execute(_INSERT, values)
    return values


# The entry chained onto the head inside one statement (PostgreSQL, after the lock: a
# statement's snapshot is taken when it starts, so it sees the last committed entry):
# the head read, the hash computed by the server as `_hash` computes it, the INSERT.
CHAINED_INSERT = """INSERT INTO ledger (seq, case_id, case_seq, history_hash, recorded_at, prev_hash, hash)
SELECT head.seq, :ledger_case_id, :ledger_case_seq, :ledger_history_hash, :ledger_recorded_at,
       head.prev, encode(sha256(convert_to(head.prev || head.seq::text || CAST(:ledger_body AS TEXT),
                                           'UTF8')), 'hex')
FROM (SELECT COALESCE((SELECT seq FROM ledger ORDER BY seq DESC LIMIT 1), 0) + 1 AS seq,
             COALESCE((SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1),
                      CAST(:ledger_genesis AS TEXT)) AS prev) AS head"""


def chained_values(
    case_id: int, case_seq: int, history_hash: str, recorded_at: datetime
) -> dict[str, Any]:
    """The bound values of `CHAINED_INSERT` for one history row: the entry's body but for
    its seq (`_hash`'s "<seq>|<case>|<case seq>|<row hash>|<time>" after the seq)."""
    stamp = recorded_at.replace(tzinfo=None).isoformat(timespec="microseconds")
    return {
        "ledger_case_id": case_id,
        "ledger_case_seq": case_seq,
        "ledger_history_hash": history_hash,
        "ledger_recorded_at": recorded_at,
        "ledger_body": f"|{case_id}|{case_seq}|{history_hash}|{stamp}",
        "ledger_genesis": GENESIS,
    }


def lock(connection: Connection) -> None:
    """Hold the ledger until the commit (PostgreSQL; SQLite's writers are serial)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK)


def chained(connection: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ledger entries of history rows written together (a bulk replay), chained in
    their order onto the head, not yet written: the caller inserts them in one batch.
    On PostgreSQL the ledger's lock is taken first and held to the caller's commit."""
    if not rows:
        return []
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK)
    last = connection.execute(_HEAD).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    entries = []
    for row in rows:
        seq += 1
        case_id, case_seq, stamp = row["case_id"], row["seq"], row["recorded_at"]
        entry_hash_ = _hash(seq, case_id, case_seq, row["hash"], stamp, prev)
        entries.append(
            {
                "seq": seq,
                "case_id": case_id,
                "case_seq": case_seq,
                "history_hash": row["hash"],
                "recorded_at": stamp,
                "prev_hash": prev,
                "hash": entry_hash_,
            }
        )
        prev = entry_hash_
    return entries


# The head as one text value, for a caller that reads it inside another statement.
HEAD_TEXT = (
    select(sql_cast(col(LedgerEntry.seq), String) + " " + col(LedgerEntry.hash))
    .order_by(col(LedgerEntry.seq).desc())
    .limit(1)
)


@dataclass(frozen=True)
class Problem:
    """One disagreement the ledger shows, named for a person: what, where."""

    kind: str  # ledger_broken | case_deleted | rows_deleted | row_rewritten | not_in_ledger
    case_id: int | None
    seq: int | None  # the ledger's seq (ledger_broken) or the case's row
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class LedgerCheck:
    entries: int
    head_seq: int
    head_hash: str
    problems: list[Problem]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session, batch: int = 5000) -> LedgerCheck:
    """Walk the whole ledger, then match it against the history rows both ways."""
    problems: list[Problem] = []
    entries, head_seq, head_hash = _walk(session, batch, problems)
    problems.extend(_against_history(session))
    return LedgerCheck(entries, head_seq, head_hash, problems)


def _walk(session: Session, batch: int, problems: list[Problem]) -> tuple[int, int, str]:
    previous, expected_seq, count = GENESIS, 1, 0
    query = select(LedgerEntry).order_by(col(LedgerEntry.seq))
    for entry in session.exec(query.execution_options(yield_per=batch)):
        count += 1
        if not problems:  # after the first break every later link is broken too
            reason = _link_problem(entry, expected_seq, previous)
            if reason:
                problems.append(Problem("ledger_broken", entry.case_id, entry.seq, reason))
        previous, expected_seq = entry.hash, entry.seq + 1
    return count, expected_seq - 1, previous


def _link_problem(entry: LedgerEntry, expected_seq: int, previous: str) -> str:
    if entry.seq != expected_seq:
        return f"ledger entry {expected_seq} missing"
    if entry.prev_hash != previous:
        return f"ledger entry {entry.seq}: link to previous entry broken"
    if entry_hash(entry) != entry.hash:
        return f"ledger entry {entry.seq} altered"
    return ""


def _against_history(session: Session) -> Iterator[Problem]:
    """Entries whose row is gone or differs, and rows the ledger never recorded."""
    missing = text(
        "SELECT l.case_id, l.case_seq, h.hash, "
        " (SELECT COUNT(*) FROM historyevent x WHERE x.case_id = l.case_id), "
        ' (SELECT COUNT(*) FROM "case" c WHERE c.id = l.case_id) '
        "FROM ledger l LEFT JOIN historyevent h "
        " ON h.case_id = l.case_id AND h.seq = l.case_seq "
        "WHERE h.id IS NULL OR h.hash <> l.history_hash ORDER BY l.seq"
    )
    deleted: set[int] = set()
    for case_id, case_seq, found, rows, cases in session.execute(missing):
        if found is not None:
            yield Problem(
                "row_rewritten",
                case_id,
                case_seq,
                f"case {case_id}: row {case_seq} rewritten (its hash is not the one the ledger recorded)",
            )
        elif not cases and not rows:
            if case_id not in deleted:
                deleted.add(case_id)
                yield Problem(
                    "case_deleted", case_id, None, f"case {case_id} deleted with all its rows"
                )
        else:
            yield Problem(
                "rows_deleted",
                case_id,
                case_seq,
                f"case {case_id}: row {case_seq} deleted (the ledger recorded it; the case has {rows} rows)",
            )
    unrecorded = text(
        "SELECT h.case_id, h.seq FROM historyevent h LEFT JOIN ledger l "
        " ON l.case_id = h.case_id AND l.case_seq = h.seq "
        "WHERE l.seq IS NULL ORDER BY h.case_id, h.seq"
    )
    for case_id, seq in session.execute(unrecorded):
        yield Problem(
            "not_in_ledger",
            case_id,
            seq,
            f"case {case_id}: row {seq} is not in the ledger (written outside the engine)",
        )


def check_case(session: Session, case_id: int, rows: list[HistoryEvent]) -> ChainCheck | None:
    """One case against its ledger entries (the case page's check; `verify` is the whole
    ledger's): a row rewritten with its hashes recomputed, or its last rows cut off."""
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.case_id == case_id)
        .order_by(col(LedgerEntry.case_seq))
    )
    entries = list(session.exec(query))
    return compare(case_id, rows, entries, neighbours(session, entries))


def compare(
    case_id: int,
    rows: list[HistoryEvent],
    entries: list[LedgerEntry],
    around: dict[int, tuple[str, str]],
) -> ChainCheck | None:
    """`check_case` on loaded rows: the case's `entries` (by case_seq) and the ledger
    entries `around` them ({seq: (hash, prev_hash)}, from `neighbours`)."""
    recorded = {entry.case_seq: entry for entry in entries}
    for row in rows:
        entry = recorded.get(row.seq)
        if entry is None:
            return ChainCheck(case_id, False, row.seq, len(rows), "row not in the ledger")
        if entry.history_hash != row.hash or entry_hash(entry) != entry.hash:
            return ChainCheck(
                case_id, False, row.seq, len(rows), "row rewritten (the ledger disagrees)"
            )
    broken = _neighbours_disagree(entries, around)
    if broken is not None:
        reason = (
            "ledger rewritten around this case (its entries no longer link to their neighbours)"
        )
        return ChainCheck(case_id, False, broken, len(rows), reason)
    if len(entries) > len(rows):
        cut = len(rows) + 1
        reason = (
            f"latest rows deleted (the ledger recorded {len(entries)}, the history has {len(rows)})"
        )
        return ChainCheck(case_id, False, cut, len(rows), reason)
    return None


def neighbours(session: Session, entries: list[LedgerEntry]) -> dict[int, tuple[str, str]]:
    """{seq: (hash, prev_hash)} of the ledger entries just before and after `entries`
    (of any case): one query for a case, or for a batch of cases."""
    wanted = sorted({entry.seq + step for entry in entries for step in (-1, 1)})
    around: dict[int, tuple[str, str]] = {}
    for start in range(0, len(wanted), 1000):  # bound the IN list
        query = select(LedgerEntry.seq, LedgerEntry.hash, LedgerEntry.prev_hash).where(
            col(LedgerEntry.seq).in_(wanted[start : start + 1000])
        )
        around.update({seq: (hash_, prev) for seq, hash_, prev in session.exec(query)})
    return around


def _neighbours_disagree(
    entries: list[LedgerEntry], around: dict[int, tuple[str, str]]
) -> int | None:
    """The case's row whose ledger entry does not link with the entries of other cases
    written just before and after it (a case's entries rewritten on their own)."""
    for entry in entries:
        before = around.get(entry.seq - 1)
        expected_prev = GENESIS if entry.seq == 1 else (before[0] if before else None)
        after = around.get(entry.seq + 1)
        if expected_prev is not None and entry.prev_hash != expected_prev:
            return entry.case_seq
        if after is not None and after[1] != entry.hash:
            return entry.case_seq
    return None


def stamp(previous: datetime | None, now: datetime) -> datetime:
    """The recorded time never goes back: at least the case's previous row's."""
    return now if previous is None or now >= previous else previous
