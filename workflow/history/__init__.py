"""The history: each case's hash chain (`chain`), what the case row must say (`replay`),
the ledger over all cases (`ledger`), its signed checkpoints (`signing`), and `audit`,
which runs them all for `ketnap verify` and the auditor's pages.

`workflow.history` keeps the names the rest of the code imports (seal, verify_case …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import Session

from workflow.history.chain import (
    GENESIS,
    ChainCheck,
    canonical_data,
    compute_hash,
    rows_of,
    seal,
    verify_all,
    verify_rows,
)
from workflow.history.ledger import check_case
from workflow.models import Case, HistoryEvent, Person
from workflow.text import Text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from workflow.history.ledger import LedgerCheck
    from workflow.history.signing import CheckpointCheck

__all__ = [
    "GENESIS",
    "Audit",
    "ChainCheck",
    "audit",
    "canonical_data",
    "compute_hash",
    "rows_of",
    "seal",
    "verify_all",
    "verify_case",
    "verify_loaded",
    "verify_rows",
]


@dataclass(frozen=True)
class Audit:
    """Everything `ketnap verify` checks, each problem named in one line."""

    cases: list[ChainCheck]
    ledger: LedgerCheck
    checkpoints: CheckpointCheck | None  # None: no public key configured
    notes: list[Text] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        signed_ok = self.checkpoints is None or self.checkpoints.intact
        return not self.cases and self.ledger.intact and signed_ok

    def problems(self) -> list[str]:
        lines = [f"case {c.case_id}: row {c.broken_at} {c.reason}" for c in self.cases]
        lines += [str(p) for p in self.ledger.problems]
        if self.checkpoints is not None:
            lines += self.checkpoints.problems
        return lines


def verify_case(session: Session, case_id: int) -> ChainCheck:
    """One case: its chain, its case and person rows against it, its ledger entries."""
    case = session.get(Case, case_id)
    rows = rows_of(session, case_id)
    if case is None:
        return verify_rows(case_id, rows)
    return verify_loaded(session, case, session.get(Person, case.person_id), rows)


def verify_loaded(
    session: Session, case: Case, person: Person | None, rows: list[HistoryEvent]
) -> ChainCheck:
    """`verify_case` on rows a page already loaded."""
    assert case.id is not None
    check = verify_rows(case.id, rows, case=case, person=person)
    if not check.intact:
        return check
    return check_case(session, case.id, rows) or check


def audit(session: Session, public: Ed25519PublicKey | None) -> Audit:
    """Every case chain, the ledger, and (with a public key) every signed checkpoint."""
    from workflow.history import ledger, signing

    cases = verify_all(session)
    whole = ledger.verify(session)
    notes: list[Text] = []
    checked = None
    if public is None:
        notes.append(
            Text(
                "chưa cấu hình khóa ký: đã kiểm tra các chuỗi, chưa kiểm tra mốc đã ký nào "
                "([history] signing_key_file hoặc public_key_file)",
                "no signing key configured: chains checked, no signed checkpoint verified "
                "([history] signing_key_file or public_key_file)",
            )
        )
    else:
        checked = signing.verify(session, public)
        if checked.checked == 0:
            notes.append(
                Text(
                    "chưa có mốc nào được ký (ketnap checkpoint)",
                    "no signed checkpoint exists yet (ketnap checkpoint)",
                )
            )
        elif checked.latest_seq is not None and checked.latest_seq < whole.head_seq:
            unsigned = whole.head_seq - checked.latest_seq
            notes.append(
                Text(
                    f"{unsigned} mục sổ cái ghi sau mốc đã ký gần nhất",
                    f"{unsigned} ledger entries since the latest signed checkpoint",
                )
            )
    return Audit(cases, whole, checked, notes)
