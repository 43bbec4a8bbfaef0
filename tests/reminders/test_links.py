"""Links in what Ketnap answers start with [web] base_url, as the e-mails' do: a client
that sends another Host header gets no link to its own site."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tests.reminders.conftest import Town
from tests.reminders.test_inbox_web import WARNED, bearer
from web.app import create_app

BASE = "https://ketnap.example.vn"


def test_the_api_inbox_links_cases_under_base_url_whatever_the_host_header(
    town: Town,
) -> None:
    config = replace(town.config, web={**town.config.web, "base_url": BASE})
    app = create_app(
        town.engine,
        config,
        TESTING=True,
        SECRET_KEY="an https site needs a key of 32 characters or more",
        RATELIMIT_ENABLED=False,
    )
    case_id = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    client = app.test_client()
    listing = client.get(
        "/api/v1/inbox",
        headers=bearer(app, town, "sponsor"),
        base_url="http://attacker.example:8080",
    )
    assert listing.status_code == 200
    links = {item["case_url"] for item in listing.get_json()["items"]}
    assert f"{BASE}/cases/{case_id}" in links
    assert all(link.startswith(f"{BASE}/cases/") for link in links)
    assert "no-store" in listing.headers["Cache-Control"]
