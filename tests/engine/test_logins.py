"""The sign-in attempt store on SQLite and a real PostgreSQL: counted atomically under
real concurrency (threads, each with its own connection), per account and address,
never locking the right password out from another address; a dummy hash for
unknown names; the session generation that logout and a password change bump.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from tests.engine.conftest import Setup
from workflow import logins
from workflow.access import Actor
from workflow.directory import users
from workflow.logins import Limit, Limits, TooManyAttempts
from workflow.models import LoginAttempt, User
from workflow.ops.demo import DEMO_PASSWORD

ADMIN = Actor("admin", "admin", None, "")
LIMITS = Limits()  # 10 per account and address, 50 per address, 10 per account
ATTACKER, VICTIM_HOME = "198.51.100.7", "192.0.2.10"


class Hasher:
    """Counts every password check workflow.logins makes (and still makes it)."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self._lock = threading.Lock()
        self._real: Callable[[str, str], bool] = logins.check_password_hash

    def __call__(self, stored: str, password: str) -> bool:
        with self._lock:
            self.checked.append(stored)
        return self._real(stored, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hasher]:
    spy = Hasher()
    monkeypatch.setattr(logins, "check_password_hash", spy)
    yield spy


def attempt(
    setup: Setup, username: str, password: str, address: str, limits: Limits = LIMITS
) -> str:
    """'ok', 'wrong' or 'refused'."""
    try:
        user = logins.authenticate(setup.engine, username, password, address=address, limits=limits)
    except TooManyAttempts:
        return "refused"
    return "ok" if user is not None else "wrong"


def all_at_once(count: int, job: Callable[[int], str]) -> list[str]:
    """`count` real threads released together; an exception in any fails the test."""
    gate = threading.Barrier(count)
    results: list[str] = [""] * count
    failures: list[BaseException] = []

    def run(n: int) -> None:
        try:
            gate.wait(timeout=60)
            results[n] = job(n)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    return results


def test_fifty_parallel_wrong_passwords_get_exactly_the_limit_evaluated(
    setup: Setup, hasher: Hasher
) -> None:
    results = all_at_once(50, lambda n: attempt(setup, "officer", f"guess-{n}", ATTACKER))
    assert results.count("wrong") == LIMITS.pair.attempts == 10
    assert results.count("refused") == 40
    assert len(hasher.checked) == 10, "a refused attempt never reaches the hasher"
    assert logins.attempts(setup.engine, f"address:{ATTACKER}") == 50
    assert logins.attempts(setup.engine, f"pair:{ATTACKER} officer") == 50


def test_the_right_password_from_another_address_gets_in_while_an_attacker_hammers(
    setup: Setup,
) -> None:
    def hammer(n: int) -> str:
        return attempt(setup, "officer", f"guess-{n}", ATTACKER)

    assert set(all_at_once(30, hammer)) == {"wrong", "refused"}
    assert attempt(setup, "officer", DEMO_PASSWORD, ATTACKER) == "refused"
    assert attempt(setup, "officer", DEMO_PASSWORD, VICTIM_HOME) == "ok"
    assert attempt(setup, "officer", DEMO_PASSWORD, VICTIM_HOME) == "ok"


def test_an_account_under_attack_gives_each_address_only_a_few_tries(setup: Setup) -> None:
    """Many addresses (a botnet): past the account's limit each gets HOT_ACCOUNT_TRIES."""
    for n in range(10):
        assert attempt(setup, "officer", "guess", f"203.0.113.{n}") == "wrong"
    newcomer = [attempt(setup, "officer", "guess", "203.0.113.200") for _ in range(5)]
    assert newcomer == ["wrong"] * logins.HOT_ACCOUNT_TRIES + ["refused"] * 2
    assert attempt(setup, "officer", DEMO_PASSWORD, VICTIM_HOME) == "ok"


def test_one_address_trying_many_accounts_is_stopped_at_the_address_limit(setup: Setup) -> None:
    limits = Limits(address=Limit(6, timedelta(minutes=5)))  # each check costs a hash
    results = [attempt(setup, f"name-{n}", "guess", ATTACKER, limits) for n in range(8)]
    assert results == ["wrong"] * 6 + ["refused"] * 2
    assert attempt(setup, "officer", DEMO_PASSWORD, ATTACKER, limits) == "refused"
    assert attempt(setup, "officer", DEMO_PASSWORD, VICTIM_HOME, limits) == "ok"


def test_a_success_gives_its_counts_back(setup: Setup) -> None:
    for _ in range(9):
        assert attempt(setup, "officer", "typo", VICTIM_HOME) == "wrong"
    assert attempt(setup, "officer", DEMO_PASSWORD, VICTIM_HOME) == "ok"
    assert logins.attempts(setup.engine, f"pair:{VICTIM_HOME} officer") == 0
    assert logins.attempts(setup.engine, "account:officer") == 9  # typos stay counted
    assert attempt(setup, "officer", "typo", VICTIM_HOME) == "wrong"


def test_the_username_counts_whatever_its_case(setup: Setup) -> None:
    for name in ("officer", "OFFICER", " Officer "):
        attempt(setup, name, "guess", ATTACKER)
    assert logins.attempts(setup.engine, f"pair:{ATTACKER} officer") == 3


def test_a_window_ends_and_counting_starts_again(setup: Setup) -> None:
    for _ in range(11):
        attempt(setup, "officer", "guess", ATTACKER)
    assert attempt(setup, "officer", "guess", ATTACKER) == "refused"
    setup.clock.moment += LIMITS.pair.window + timedelta(seconds=1)
    assert attempt(setup, "officer", "guess", ATTACKER) == "wrong"
    assert logins.attempts(setup.engine, f"pair:{ATTACKER} officer") == 1


def test_counts_of_windows_long_past_are_forgotten(setup: Setup) -> None:
    attempt(setup, "officer", "guess", ATTACKER)
    setup.clock.moment += LIMITS.longest + timedelta(seconds=1)
    attempt(setup, "auditor", "guess", VICTIM_HOME)  # a new window for its address
    with setup.engine.session() as session:
        keys = set(session.exec(select(LoginAttempt.key)).all())
    assert keys == {f"address:{VICTIM_HOME}", "account:auditor", f"pair:{VICTIM_HOME} auditor"}


def test_an_unknown_username_costs_one_hash_check_like_a_known_one(
    setup: Setup, hasher: Hasher
) -> None:
    assert attempt(setup, "no-such-user", "guess", ATTACKER) == "wrong"
    assert attempt(setup, "officer", "guess", ATTACKER) == "wrong"
    dummy, real = hasher.checked
    assert dummy != real and dummy.split("$")[0] == real.split("$")[0]  # the same method


def test_nothing_is_counted_when_limits_are_off(setup: Setup) -> None:
    for _ in range(LIMITS.pair.attempts + 2):
        user = logins.authenticate(setup.engine, "officer", "guess", address=ATTACKER)
        assert user is None
    assert logins.authenticate(setup.engine, "officer", DEMO_PASSWORD, address=ATTACKER)
    assert logins.attempts(setup.engine, f"address:{ATTACKER}") == 0


@pytest.mark.parametrize(
    ("text", "attempts", "seconds"),
    [("10 per 5 minutes", 10, 300), ("10/minute", 10, 60), ("3 per 1 hour", 3, 3600)],
)
def test_a_limit_is_written_as_flask_limiter_wrote_it(
    text: str, attempts: int, seconds: int
) -> None:
    assert Limit.parse(text) == Limit(attempts, timedelta(seconds=seconds))


@pytest.mark.parametrize("text", ["", "lots", "0 per minute", "10 per 5 fortnights"])
def test_a_limit_that_means_nothing_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a limit"):
        Limit.parse(text)


# ── the session generation ───────────────────────────────────────────────
def generation(setup: Setup, username: str) -> int:
    with setup.engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
    return user.session_generation


def user_id(setup: Setup, username: str) -> int:
    with setup.engine.session() as session:
        found = session.exec(select(User.id).where(User.username == username)).one()
    assert found is not None
    return found


def test_logouts_at_once_each_bump_the_generation(setup: Setup) -> None:
    before, uid = generation(setup, "officer"), user_id(setup, "officer")

    def log_out(_n: int) -> str:
        logins.log_out(setup.engine, uid)
        return "done"

    all_at_once(8, log_out)
    assert generation(setup, "officer") == before + 8


def test_a_password_change_bumps_the_generation_and_other_changes_do_not(setup: Setup) -> None:
    before, uid = generation(setup, "officer"), user_id(setup, "officer")
    users.change_user(setup.engine, uid, {"email": "officer@ketnap.local"}, actor=ADMIN)
    assert generation(setup, "officer") == before
    changed: Any = users.change_user(setup.engine, uid, {"password": "a-new-secret"}, actor=ADMIN)
    assert generation(setup, "officer") == before + 1
    assert changed.session_generation == before + 1
