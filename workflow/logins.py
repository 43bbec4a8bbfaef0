"""Signing in: the password check, the attempt limits every worker shares, and the
session generation that logout and a password change bump.

Attempts are counted in the database (table `login_attempt`), so every worker
process and both ways in (the login page and POST /api/v1/token) count together.
An attempt is counted BEFORE its password is checked, by one atomic upsert per key
that returns the new count: of 50 wrong passwords sent at once, exactly the first
`limit` counts are at most the limit, so at most `limit` passwords are evaluated.
A successful attempt gives its count back (and clears its address's count for the
account), so only failures stay counted.

Three keys per attempt, each with its own limit and window ([web] in config.toml):

* the account from this address (`login_limit`, 10 per 5 minutes): someone
  guessing one user's password from one address;
* the address (`login_address_limit`, 50 per 5 minutes): one address guessing
  many users' passwords;
* the account from everywhere (`login_account_limit`, 10 per 5 minutes): once
  exceeded the account is under attack, and every address may try it only
  `HOT_ACCOUNT_TRIES` times per window. The account is never locked as a whole: a
  user signing in from an address that is not the attacker's still gets their
  tries, so no one can lock a named user out from elsewhere.

An unknown username costs one password hash check too (against a dummy hash), so
it answers as slowly as a known one and timing does not tell who has an account.

This is a core module (beside `access`): the web's page and API call it, and
`directory.users` calls `end_sessions` when an administrator sets a password.
Its writes are not admin-log actions: counters and logouts are not reference data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from secrets import token_urlsafe
from typing import Any

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from workflow.engine import Engine
from workflow.models import LoginAttempt, User
from workflow.text import Explained, Text

HOT_ACCOUNT_TRIES = 3  # per address and window, while the account is under attack
MAX_NAME = 64  # a counter key holds at most this much of a username
MAX_ADDRESS = 64

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.I)


@dataclass(frozen=True)
class Limit:
    """At most `attempts` failed attempts per `window` (flask-limiter's syntax:
    "10 per 5 minutes", "10/minute")."""

    attempts: int
    window: timedelta

    @classmethod
    def parse(cls, text: str) -> Limit:
        found = _LIMIT.match(text)
        if found is None:
            raise ValueError(f"not a limit: {text!r} (write e.g. '10 per 5 minutes')")
        attempts, count, unit = found.groups()
        seconds = int(count or 1) * _UNITS[unit.lower()]
        if int(attempts) < 1 or seconds < 1:
            raise ValueError(f"not a limit: {text!r} (at least 1 attempt per second)")
        return cls(int(attempts), timedelta(seconds=seconds))


@dataclass(frozen=True)
class Limits:
    pair: Limit = Limit(10, timedelta(minutes=5))  # one account from one address
    address: Limit = Limit(50, timedelta(minutes=5))
    account: Limit = Limit(10, timedelta(minutes=5))  # beyond it: HOT_ACCOUNT_TRIES

    @classmethod
    def parse(cls, pair: str, address: str, account: str) -> Limits:
        return cls(Limit.parse(pair), Limit.parse(address), Limit.parse(account))

    @property
    def longest(self) -> timedelta:
        return max(self.pair.window, self.address.window, self.account.window)


class TooManyAttempts(Explained):
    """Refused without checking the password (HTTP 429): wait for the window to end."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(
            Text(
                "Đăng nhập sai quá nhiều lần. Hãy chờ vài phút rồi thử lại.",
                "Too many failed attempts. Wait a few minutes, then try again.",
            )
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Keys:
    pair: str
    address: str
    account: str


def _keys(username: str, address: str) -> _Keys:
    name = username.strip().lower()[:MAX_NAME]
    where = (address or "unknown").strip()[:MAX_ADDRESS]
    return _Keys(f"pair:{where} {name}", f"address:{where}", f"account:{name}")


# ── the password check ───────────────────────────────────────────────────
@cache
def _dummy_hash() -> str:
    """A hash of a random password, made the way real ones are (same method, same
    cost): checked for a username that has no usable password."""
    return generate_password_hash(token_urlsafe(24))


def _check(user: User | None, password: str) -> User | None:
    """Exactly one hash check, whoever `user` is."""
    usable = user is not None and bool(user.password_hash)
    stored = user.password_hash if user is not None and usable else _dummy_hash()
    matches = check_password_hash(stored, password)
    if user is None or not usable or not user.active:
        return None
    return user if matches else None


def authenticate(
    engine: Engine, username: str, password: str, *, address: str, limits: Limits | None = None
) -> User | None:
    """The active user with this username and password, else None (a failed attempt,
    counted). Raises TooManyAttempts, without checking the password, past a limit.
    `limits` None: nothing is counted (test apps that switch limiting off)."""
    keys = _keys(username, address)
    if limits is not None:
        _reserve(engine, keys, limits)
    with engine.session() as session:
        user = session.exec(select(User).where(User.username == username.strip())).first()
    signed_in = _check(user, password)
    if signed_in is not None and limits is not None:
        _give_back(engine, keys)
    return signed_in


# ── the counters ─────────────────────────────────────────────────────────
def _reserve(engine: Engine, keys: _Keys, limits: Limits) -> None:
    """Count this attempt under its three keys (one transaction, keys always in the
    same order, so two attempts never wait on each other in a cycle); refuse it when
    a count is past its limit."""
    now = engine.clock.now()
    with engine.session() as session:
        address = _count(session, keys.address, limits.address.window, now)
        account = _count(session, keys.account, limits.account.window, now)
        pair = _count(session, keys.pair, limits.pair.window, now)
        session.commit()
    if address == 1:  # a new window for this address: forget windows long past
        _forget_before(engine, now - limits.longest)
    allowed = limits.pair.attempts
    if account > limits.account.attempts:
        allowed = min(allowed, HOT_ACCOUNT_TRIES)
    if address > limits.address.attempts:
        raise TooManyAttempts(limits.address.window)
    if pair > allowed:
        raise TooManyAttempts(max(limits.pair.window, limits.account.window))


def _forget_before(engine: Engine, cutoff: datetime) -> None:
    """Its own transaction, holding no counter's lock while it waits for others'."""
    with engine.session() as session:
        session.execute(delete(LoginAttempt).where(col(LoginAttempt.window_start) < cutoff))
        session.commit()


def _count(session: Session, key: str, window: timedelta, now: datetime) -> int:
    """One more attempt under `key`: a new window when the last one has ended. One
    statement (INSERT … ON CONFLICT DO UPDATE … RETURNING), atomic on SQLite and
    PostgreSQL alike: concurrent attempts each get a different count."""
    table = LoginAttempt.__table__  # type: ignore[attr-defined]
    ended = table.c.window_start <= now - window
    insert: Any = (
        postgresql.insert(table)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(table)
    )
    statement = (
        insert.values(key=key, window_start=now, attempts=1)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "attempts": case((ended, 1), else_=table.c.attempts + 1),
                "window_start": case((ended, now), else_=table.c.window_start),
            },
        )
        .returning(table.c.attempts)
    )
    return int(session.execute(statement).scalar_one())


def _give_back(engine: Engine, keys: _Keys) -> None:
    """A successful attempt is no failure: its counts are returned, and the account
    starts afresh from this address."""
    with engine.session() as session:
        session.execute(
            update(LoginAttempt)
            .where(col(LoginAttempt.key).in_((keys.address, keys.account)))
            .where(col(LoginAttempt.attempts) > 0)
            .values(attempts=col(LoginAttempt.attempts) - 1)
        )
        session.execute(delete(LoginAttempt).where(col(LoginAttempt.key) == keys.pair))
        session.commit()


def attempts(engine: Engine, key: str) -> int:
    """The count under `key` now (0 when none): for tests and operators."""
    with engine.session() as session:
        row = session.get(LoginAttempt, key)
    return row.attempts if row is not None else 0


# ── sessions ─────────────────────────────────────────────────────────────
def end_sessions(session: Session, user_id: int) -> None:
    """Every session cookie and bearer token issued to the user stops working (one
    atomic increment: two logouts at once both count). The caller commits."""
    session.execute(
        update(User)
        .where(col(User.id) == user_id)
        .values(session_generation=col(User.session_generation) + 1)
    )


def log_out(engine: Engine, user_id: int) -> None:
    """Logout: the user's sessions and tokens end, on every device."""
    with engine.session() as session:
        end_sessions(session, user_id)
        session.commit()
