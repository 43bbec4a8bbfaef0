"""Sign-in limits across processes: gunicorn with 2 workers (4 threads each) on one
PostgreSQL, behind one trusted proxy (KETNAP_WEB_TRUSTED_PROXIES=1, as nginx would
be). 50 wrong passwords sent at once, half to the page (with its CSRF token), half to
the API, get exactly the limit evaluated — the count lives in the database, not in a
worker — and the victim still signs in from another address.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bench.web import gunicorn
from tests.support.postgres import create_database, drop_database, postgres_server_url
from workflow import db
from workflow.access import Actor
from workflow.clock import SystemClock
from workflow.config import RuleParameters
from workflow.directory import users
from workflow.engine import Engine

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "the-right-password"
ATTACKER, VICTIM_HOME = "198.51.100.7", "192.0.2.10"
GUESSES = 50


@pytest.fixture
def served() -> Iterator[int]:
    """The port of gunicorn serving a fresh PostgreSQL database with one user."""
    url = create_database(postgres_server_url())
    engine = Engine(db.connect(url), RuleParameters(), SystemClock())
    try:
        db.migrate(engine.database)
        admin = Actor("setup", "admin", None, "")
        users.add_user(
            engine, {"username": "chairman", "role": "admin", "password": PASSWORD}, actor=admin
        )
        env = {"KETNAP_WEB_TRUSTED_PROXIES": "1"}
        with gunicorn(url, workers=2, threads=4, extra_env=env) as (port, _master):
            yield port
    finally:
        engine.database.dispose()
        drop_database(url)


class Client:
    """One browser or script, from `address` (the proxy's X-Forwarded-For)."""

    def __init__(self, port: int, address: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.address = address
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def send(self, path: str, body: bytes | None = None, kind: str = "") -> tuple[int, str]:
        headers = {"X-Forwarded-For": self.address}
        if kind:
            headers["Content-Type"] = kind
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def csrf_token(self) -> str:
        status, html = self.send("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert status == 200 and found
        return found.group(1)

    def page(self, token: str, password: str) -> int:
        form = {"username": "chairman", "password": password, "csrf_token": token}
        body = urllib.parse.urlencode(form).encode()
        return self.send("/login", body, "application/x-www-form-urlencoded")[0]

    def api(self, password: str) -> int:
        body = json.dumps({"username": "chairman", "password": password}).encode()
        return self.send("/api/v1/token", body, "application/json")[0]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 302 after a login is the answer, not a page to fetch


def test_fifty_wrong_passwords_across_two_workers_get_ten_evaluated(served: int) -> None:
    clients = [Client(served, ATTACKER) for _ in range(GUESSES)]
    tokens = [client.csrf_token() if n % 2 else "" for n, client in enumerate(clients)]
    gate = threading.Barrier(GUESSES)
    statuses = [0] * GUESSES

    def guess(n: int) -> None:
        gate.wait(timeout=60)
        wrong = f"guess-{n}"
        client = clients[n]
        statuses[n] = client.page(tokens[n], wrong) if n % 2 else client.api(wrong)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert statuses.count(401) == 10, statuses
    assert statuses.count(429) == GUESSES - 10, statuses

    assert Client(served, ATTACKER).api(PASSWORD) == 429
    victim = Client(served, VICTIM_HOME)
    assert victim.page(victim.csrf_token(), PASSWORD) == 302
    assert victim.api(PASSWORD) == 200
