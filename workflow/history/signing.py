"""Signed checkpoints of the ledger's head: Ed25519, with a key kept out of the database.

`sign` records (ledger seq, ledger hash, time) signed by the private key read from a
file ([history] signing_key_file); auditors export the checkpoints and keep copies
elsewhere. `verify` checks each stored (or exported) checkpoint's signature with the
public key and that the ledger still holds, at that seq, the hash that was signed: a
ledger rewritten or cut after a checkpoint no longer extends it (Certificate
Transparency's signed tree heads). Whoever holds the database but not the key can
neither forge a checkpoint nor move the ledger under one unseen.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, col, select

from workflow.config import HistorySettings
from workflow.history import ledger
from workflow.models import Checkpoint, LedgerEntry

DOMAIN = "ketnap-ledger-checkpoint-v1"


class SigningKeyError(ValueError):
    """A key file that is missing, unreadable or not an Ed25519 key."""


def message(checkpoint: Checkpoint) -> bytes:
    """The bytes signed: a fixed domain and the head, as canonical JSON."""
    body = {
        "domain": DOMAIN,
        "ledger_seq": checkpoint.ledger_seq,
        "ledger_hash": checkpoint.ledger_hash,
        "signed_at": checkpoint.signed_at.replace(tzinfo=None).isoformat(timespec="seconds"),
        "key_id": checkpoint.key_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# ── keys ──────────────────────────────────────────────────────────────────
def keygen(private_path: Path) -> Path:
    """Write a new key pair: the private key (PEM, mode 0600, never overwritten) and
    the public key beside it (`<name>.pub`). Returns the public key's path."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_bytes(public_pem(key.public_key()))
    return public_path


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private(path: Path | str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(f"{path}: cannot read an Ed25519 private key ({error})") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 private key")
    return key


def load_public(path: Path | str) -> Ed25519PublicKey:
    """A public key file, or the public half of a private key file."""
    data = _read(path)
    if b"PRIVATE KEY" in data:
        return load_private(path).public_key()
    return public_from_pem(data, str(path))


def public_from_pem(data: bytes | str, where: str = "public key") -> Ed25519PublicKey:
    """An Ed25519 public key in PEM (a key file, or an export's `public_key`)."""
    try:
        key = serialization.load_pem_public_key(data.encode() if isinstance(data, str) else data)
    except ValueError as error:
        raise SigningKeyError(f"{where}: cannot read an Ed25519 public key ({error})") from error
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{where}: not an Ed25519 public key")
    return key


def _read(path: Path | str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise SigningKeyError(f"{path}: {error.strerror}") from error


def configured_private(settings: HistorySettings) -> Ed25519PrivateKey | None:
    return load_private(settings.signing_key_file) if settings.signing_key_file else None


def configured_public(settings: HistorySettings) -> Ed25519PublicKey | None:
    """The key that verifies: the public key file, else the private key's public half."""
    path = settings.public_key_file or settings.signing_key_file
    return load_public(path) if path else None


# ── checkpoints ───────────────────────────────────────────────────────────
def sign(session: Session, key: Ed25519PrivateKey, now: datetime) -> Checkpoint | None:
    """Sign the ledger's current head (None: the ledger is empty). The caller commits."""
    head = ledger.head(session)
    if head is None:
        return None
    checkpoint = Checkpoint(
        ledger_seq=head.seq,
        ledger_hash=head.hash,
        signed_at=now.replace(microsecond=0, tzinfo=None),
        key_id=key_id(key.public_key()),
        signature="",
    )
    checkpoint.signature = base64.b64encode(key.sign(message(checkpoint))).decode("ascii")
    session.add(checkpoint)
    return checkpoint


def sign_if_moved(session: Session, key: Ed25519PrivateKey, now: datetime) -> Checkpoint | None:
    """Sign the ledger's head unless the newest checkpoint already covers it (a quiet
    night adds no checkpoint); None when nothing was signed. The caller commits."""
    head = ledger.head(session)
    newest = session.exec(select(Checkpoint).order_by(col(Checkpoint.id).desc()).limit(1)).first()
    if head is None or (newest is not None and newest.ledger_seq == head.seq):
        return None
    return sign(session, key, now)


def stored(session: Session) -> list[Checkpoint]:
    return list(session.exec(select(Checkpoint).order_by(col(Checkpoint.id))))


def to_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "ledger_seq": checkpoint.ledger_seq,
        "ledger_hash": checkpoint.ledger_hash,
        "signed_at": checkpoint.signed_at.isoformat(timespec="seconds"),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def from_json(item: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        ledger_seq=int(item["ledger_seq"]),
        ledger_hash=str(item["ledger_hash"]),
        signed_at=datetime.fromisoformat(str(item["signed_at"])),
        key_id=str(item["key_id"]),
        signature=str(item["signature"]),
    )


def export(checkpoints: Iterable[Checkpoint], public: Ed25519PublicKey | None) -> dict[str, Any]:
    """The document auditors keep: every signed head, and the key that verifies them."""
    return {
        "domain": DOMAIN,
        "public_key": public_pem(public).decode("ascii") if public is not None else None,
        "checkpoints": [to_json(c) for c in checkpoints],
    }


@dataclass(frozen=True)
class CheckpointCheck:
    checked: int
    problems: list[str]
    latest_seq: int | None  # the newest signed head that verifies

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(
    session: Session, public: Ed25519PublicKey, checkpoints: Iterable[Checkpoint] | None = None
) -> CheckpointCheck:
    """Each checkpoint (the stored ones, or an auditor's exported copies): signed by
    `public`, and the ledger still holds the signed hash at the signed seq."""
    listed = stored(session) if checkpoints is None else list(checkpoints)
    problems: list[str] = []
    latest: int | None = None
    for checkpoint in listed:
        problem = _problem(session, public, checkpoint)
        if problem:
            problems.append(f"checkpoint of ledger entry {checkpoint.ledger_seq}: {problem}")
        elif latest is None or checkpoint.ledger_seq > latest:
            latest = checkpoint.ledger_seq
    return CheckpointCheck(len(listed), problems, latest)


def _problem(session: Session, public: Ed25519PublicKey, checkpoint: Checkpoint) -> str:
    if checkpoint.key_id != key_id(public):
        return "signed by another key than the configured public key"
    try:
        public.verify(base64.b64decode(checkpoint.signature), message(checkpoint))
    except (InvalidSignature, ValueError):
        return "signature does not verify (the signed head was altered)"
    entry = session.get(LedgerEntry, checkpoint.ledger_seq)
    if entry is None:
        return "the ledger no longer reaches the signed entry (entries deleted)"
    if entry.hash != checkpoint.ledger_hash:
        return "the ledger no longer extends the signed head (rewritten after it was signed)"
    return ""
