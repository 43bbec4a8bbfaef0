"""Every case chain of a subtree checked at once, with progress: the auditor's whole-
database check (workflow/ops/integrity.py runs it in the background and keeps its result).

Each case is checked as its page checks it (its chain, its case and person rows against
the history, its ledger entries and their neighbours), a batch of cases at a time: a few
queries per batch, memory for one batch, whatever the database's size. Checking the whole
database adds the ledger's own chain and the signed checkpoints (`history.audit`'s).

Each batch is read in one snapshot (REPEATABLE READ on PostgreSQL; an explicit BEGIN on
SQLite, whose driver starts no transaction for a SELECT): a case advanced while the check
runs is seen whole, before or after, never as a case row, history and ledger that
disagree. The snapshot ends with its batch, so a long check holds none for long."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col, func, select

from workflow.history import ledger
from workflow.history.chain import ChainCheck, verify_rows
from workflow.models import Case, HistoryEvent, LedgerEntry, Person
from workflow.text import Text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from workflow.history.ledger import LedgerCheck
    from workflow.history.signing import CheckpointCheck

BATCH = 500
Progress = Callable[[int, int, int], None]  # (cases checked, cases in the subtree, rows)


@dataclass(frozen=True)
class Found:
    """One problem: the case and row it concerns (None for the ledger's own)."""

    case_id: int | None
    seq: int | None
    reason: str

    def line(self) -> str:
        if self.case_id is None:
            return self.reason
        return f"case {self.case_id}: row {self.seq} {self.reason}"


@dataclass
class SubtreeCheck:
    cases: int = 0
    rows: int = 0
    broken: list[ChainCheck] = field(default_factory=list)
    ledger: LedgerCheck | None = None  # None: the ledger was not checked (a subtree)
    checkpoints: CheckpointCheck | None = None
    notes: list[Text] = field(default_factory=list)

    def problems(self) -> list[Found]:
        found = [Found(c.case_id, c.broken_at, c.reason) for c in self.broken]
        if self.ledger is not None:
            found += [Found(None, None, str(p)) for p in self.ledger.problems]
        if self.checkpoints is not None:
            found += [Found(None, None, p) for p in self.checkpoints.problems]
        return found

    @property
    def intact(self) -> bool:
        return not self.problems()


def in_subtree(org_path: str) -> ColumnElement[bool]:
    """The cases of the subtree at `org_path` ("": every case)."""
    return col(Case.org_path).startswith(org_path) if org_path else true()


def count_cases(session: Session, org_path: str) -> int:
    return session.exec(select(func.count()).select_from(Case).where(in_subtree(org_path))).one()


def check_subtree(
    session: Session,
    org_path: str,
    progress: Progress | None = None,
    *,
    whole: bool = False,
    public: Ed25519PublicKey | None = None,
) -> SubtreeCheck:
    """Check every case of the subtree, reporting progress after each batch; `whole`
    (the whole database) also checks the ledger and, with `public`, the checkpoints.
    `session` is the check's own: it begins and ends a read transaction per batch."""
    result = SubtreeCheck()
    total = count_cases(session, org_path)
    session.rollback()  # each batch begins its own snapshot
    if progress:
        progress(0, total, 0)
    after = 0
    while True:
        _snapshot(session)
        batch = list(
            session.exec(
                select(Case, Person)
                .join(Person, col(Person.id) == Case.person_id, isouter=True)
                .where(in_subtree(org_path), col(Case.id) > after)
                .order_by(col(Case.id))
                .limit(BATCH)
            )
        )
        if not batch:
            session.rollback()
            break
        _check_batch(session, batch, result)
        after = batch[-1][0].id or after
        result.cases += len(batch)
        session.expunge_all()  # memory for one batch
        session.rollback()  # read only: ends the batch's snapshot
        if progress:
            progress(result.cases, max(total, result.cases), result.rows)
    if whole:
        _whole(session, result, public)
    return result


def _snapshot(session: Session) -> None:
    """Begin the batch's read transaction, one snapshot for all its statements."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            connection.exec_driver_sql("BEGIN")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _check_batch(
    session: Session, batch: Sequence[tuple[Case, Person | None]], out: SubtreeCheck
) -> None:
    ids = [case.id for case, _ in batch if case.id is not None]
    rows: dict[int, list[HistoryEvent]] = defaultdict(list)
    query = (
        select(HistoryEvent)
        .where(col(HistoryEvent.case_id).in_(ids))
        .order_by(col(HistoryEvent.case_id), col(HistoryEvent.seq))
    )
    for row in session.exec(query):
        rows[row.case_id].append(row)
    entries: dict[int, list[LedgerEntry]] = defaultdict(list)
    query_entries = (
        select(LedgerEntry)
        .where(col(LedgerEntry.case_id).in_(ids))
        .order_by(col(LedgerEntry.case_id), col(LedgerEntry.case_seq))
    )
    for entry in session.exec(query_entries):
        entries[entry.case_id].append(entry)
    around = ledger.neighbours(session, [e for listed in entries.values() for e in listed])
    for case, person in batch:
        assert case.id is not None
        case_rows = rows.get(case.id, [])
        out.rows += len(case_rows)
        check = verify_rows(case.id, case_rows, case=case, person=person)
        if check.intact:
            check = ledger.compare(case.id, case_rows, entries.get(case.id, []), around) or check
        if not check.intact:
            out.broken.append(check)


def _whole(session: Session, result: SubtreeCheck, public: Ed25519PublicKey | None) -> None:
    from workflow.history import signing

    result.ledger = ledger.verify(session)
    if public is None:
        result.notes.append(
            Text(
                "chưa cấu hình khóa ký: đã kiểm tra các chuỗi và sổ cái, chưa kiểm tra mốc "
                "đã ký nào ([history] signing_key_file hoặc public_key_file)",
                "no signing key configured: chains and ledger checked, no signed checkpoint "
                "verified ([history] signing_key_file or public_key_file)",
            )
        )
        return
    result.checkpoints = signing.verify(session, public)
    if result.checkpoints.checked == 0:
        result.notes.append(
            Text("chưa có mốc nào được ký (ketnap checkpoint)", "no signed checkpoint exists yet")
        )
