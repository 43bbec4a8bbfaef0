"""Signing in through the page and the API: one shared count (real threads at once),
the client's address behind trusted proxies, the victim who still gets in, a dummy
hash for unknown names; sessions and tokens that logout and a password change end;
a bearer client that keeps cookies."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.support import login, make_app, user
from workflow import logins
from workflow.access import Actor
from workflow.directory import users
from workflow.engine import Engine
from workflow.ops.demo import DEMO_PASSWORD

ATTACKER, VICTIM_HOME = "198.51.100.7", "192.0.2.10"
ADMIN = Actor("admin", "admin", None, "")


class Hasher:
    """Counts the password checks (and still makes them)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()
        self._real: Callable[[str, str], bool] = logins.check_password_hash

    def __call__(self, stored: str, password: str) -> bool:
        with self._lock:
            self.calls += 1
        return self._real(stored, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hasher]:
    spy = Hasher()
    monkeypatch.setattr(logins, "check_password_hash", spy)
    yield spy


@pytest.fixture
def limited(engine: Engine) -> Flask:
    return make_app(engine, RATELIMIT_ENABLED=True)


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def page(client: FlaskClient, username: str, password: str, **kwargs: Any) -> int:
    data = {"username": username, "password": password}
    return client.post("/login", data=data, **kwargs).status_code


def api(client: FlaskClient, username: str, password: str, **kwargs: Any) -> int:
    body = {"username": username, "password": password}
    return client.post("/api/v1/token", json=body, **kwargs).status_code


def test_fifty_parallel_wrong_passwords_on_page_and_api_get_ten_evaluated(
    limited: Flask, hasher: Hasher
) -> None:
    gate = threading.Barrier(50)
    statuses: list[int] = [0] * 50

    def guess(n: int) -> None:
        client = limited.test_client()
        gate.wait(timeout=60)
        send = page if n % 2 else api
        statuses[n] = send(client, "officer", f"guess-{n}", **from_address(ATTACKER))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == 10 and statuses.count(429) == 40
    assert hasher.calls == 10


def test_page_and_api_count_together(engine: Engine) -> None:
    app = make_app(engine, RATELIMIT_ENABLED=True, KETNAP_LOGIN_LIMIT="3 per minute")
    client = app.test_client()
    assert page(client, "officer", "wrong") == 401
    assert api(client, "officer", "wrong") == 401
    assert page(client, "officer", "wrong") == 401
    refused = client.post("/api/v1/token", json={"username": "officer", "password": "x"})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["rule"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) == 300  # the account's window, 5 minutes
    assert page(client, "officer", DEMO_PASSWORD) == 429


def test_the_victim_gets_in_from_home_while_an_attacker_hammers(limited: Flask) -> None:
    attacker = limited.test_client()
    for n in range(30):
        send = page if n % 2 else api
        send(attacker, "secretary", f"guess-{n}", **from_address(ATTACKER))
    assert page(attacker, "secretary", DEMO_PASSWORD, **from_address(ATTACKER)) == 429
    victim = limited.test_client()
    assert page(victim, "secretary", DEMO_PASSWORD, **from_address(VICTIM_HOME)) == 302
    assert api(victim, "secretary", DEMO_PASSWORD, **from_address(VICTIM_HOME)) == 200


def proxied_app(engine: Engine, proxies: int) -> Flask:
    return make_app(
        engine,
        RATELIMIT_ENABLED=True,
        KETNAP_LOGIN_LIMIT="3 per minute",
        KETNAP_TRUSTED_PROXIES=proxies,
    )


def test_x_forwarded_for_is_ignored_without_trusted_proxies(engine: Engine) -> None:
    client = proxied_app(engine, 0).test_client()
    statuses = [
        page(client, "officer", "wrong", headers={"X-Forwarded-For": f"203.0.113.{n}"})
        for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]  # a forged header buys no new address
    assert logins.attempts(engine, "address:127.0.0.1") == 5
    assert logins.attempts(engine, "address:203.0.113.0") == 0


def test_behind_one_proxy_its_x_forwarded_for_names_the_client(engine: Engine) -> None:
    client = proxied_app(engine, 1).test_client()
    # the client forged the first entry; the proxy appended the address it saw
    forwarded = {"X-Forwarded-For": "10.9.9.9, 203.0.113.5"}
    statuses = [page(client, "officer", "wrong", headers=forwarded) for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert logins.attempts(engine, "address:203.0.113.5") == 4
    assert logins.attempts(engine, "address:10.9.9.9") == 0
    other = {"X-Forwarded-For": "203.0.113.6"}  # another client behind the same proxy
    assert page(client, "officer", DEMO_PASSWORD, headers=other) == 302


def test_an_unknown_username_checks_a_hash_like_a_known_one(limited: Flask, hasher: Hasher) -> None:
    client = limited.test_client()
    assert page(client, "nobody-by-this-name", "guess") == 401
    assert hasher.calls == 1
    assert page(client, "officer", "guess") == 401
    assert hasher.calls == 2
    assert api(client, "nobody-by-this-name", "guess") == 401
    assert hasher.calls == 3


def test_a_limit_that_means_nothing_stops_the_start(engine: Engine) -> None:
    with pytest.raises(ValueError, match="not a limit"):
        make_app(engine, RATELIMIT_ENABLED=True, KETNAP_LOGIN_ADDRESS_LIMIT="many")


# ── sessions and tokens end ──────────────────────────────────────────────
def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("ketnap_session")
    assert cookie is not None
    return cookie.value


def token_of(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> str:
    answer = client.post("/api/v1/token", json={"username": username, "password": password})
    assert answer.status_code == 200
    return str(answer.get_json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_logout_then_replaying_the_old_cookie_is_not_logged_in(app: Flask) -> None:
    client = login(app, "secretary")
    stolen = session_cookie(client)
    assert client.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("ketnap_session", stolen)
    page_answer = replay.get("/cases")
    assert page_answer.status_code == 302 and "/login" in page_answer.location
    assert replay.get("/api/v1/me").status_code == 401


def test_logout_ends_the_users_tokens_too(app: Flask) -> None:
    token = token_of(app.test_client(), "secretary")
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200
    login(app, "secretary").post("/logout")
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_password_change_revokes_issued_tokens_and_sessions(app: Flask, engine: Engine) -> None:
    token = token_of(app.test_client(), "officer")
    browser = login(app, "officer")
    account = user(engine, "officer")
    assert account.id is not None
    users.change_user(engine, account.id, {"password": "a-brand-new-secret"}, actor=ADMIN)
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert browser.get("/cases").status_code == 302
    fresh = token_of(app.test_client(), "officer", "a-brand-new-secret")
    me = app.test_client().get("/api/v1/me", headers=bearer(fresh))
    assert me.status_code == 200 and me.get_json()["username"] == "officer"


def test_a_password_set_on_the_admin_page_ends_the_users_sessions(
    app: Flask, engine: Engine
) -> None:
    token = token_of(app.test_client(), "auditor")
    auditor = login(app, "auditor")
    account = user(engine, "auditor")
    form = {
        "full_name": account.full_name,
        "role": account.role,
        "organisation_id": str(account.organisation_id or ""),
        "member_id": str(account.member_id or ""),
        "email": account.email or "",
        "active": "on",
        "password": "another-new-secret",
    }
    saved = login(app, "admin").post(f"/admin/users/{account.id}", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert auditor.get("/cases").status_code == 302
    login(app, "auditor", "another-new-secret")


def test_a_client_that_keeps_cookies_keeps_its_bearer_login(app: Flask) -> None:
    client = app.test_client()  # keeps every cookie it is given, like requests.Session
    token = token_of(client, "secretary")
    first = client.get("/", headers=bearer(token))  # a page: sets a cookie (CSRF token)
    assert first.status_code == 200
    for _ in range(3):
        me = client.get("/api/v1/me", headers=bearer(token))
        assert me.status_code == 200
        assert me.get_json()["username"] == "secretary"
    assert "Set-Cookie" not in me.headers, "a bearer call writes no session"


def test_the_token_decides_even_beside_another_users_session(app: Flask) -> None:
    browser = login(app, "officer")
    token = token_of(app.test_client(), "secretary")
    me = browser.get("/api/v1/me", headers=bearer(token))
    assert me.get_json()["username"] == "secretary"
    assert browser.get("/api/v1/me").get_json()["username"] == "officer"


def test_a_revoked_token_is_refused_even_beside_a_live_session(app: Flask) -> None:
    token = token_of(app.test_client(), "secretary")
    login(app, "secretary").post("/logout")
    browser = login(app, "secretary")  # a new session, after the logout
    assert browser.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert browser.get("/api/v1/me").status_code == 200
