"""The case page builds only the form of the step the reader acts on next; every other
step's form is fetched when it is opened (GET /cases/<id>/events/<event>): the same
markup, CSRF token and version as the page would have built, behind the same checks,
and without JavaScript its link opens the page with that form (?step=)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from tests.web.support import case_in_state, login, make_app, user
from workflow.engine import Engine
from workflow.models import Case


def built_forms(html: str) -> list[str]:
    """The steps whose forms the page carries (their POST actions)."""
    return re.findall(r'<form method="post" action="/cases/\d+/events/(\w+)"', html)


def on_demand(html: str) -> dict[str, str]:
    """step → the URL its <details> fetches its form from."""
    return dict(
        (name, url) for url, name in re.findall(r'data-form="(/cases/\d+/events/(\w+))"', html)
    )


def the_form(html: str, event: str) -> str:
    found = re.search(
        rf'<form method="post" action="/cases/\d+/events/{event}".*?</form>', html, re.S
    )
    assert found, f"no form of {event}"
    return found.group(0)


def secretary_case(app: Flask, engine: Engine, state: str) -> tuple[FlaskClient, int]:
    case = case_in_state(engine, state, user(engine, "secretary").organisation_id)
    assert case.id is not None
    return login(app, "secretary"), case.id


def test_the_page_builds_only_the_next_step_s_form(app: Flask, engine: Engine) -> None:
    client, case_id = secretary_case(app, engine, "in_class")
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert built_forms(html) == ["pass_class"]
    later = on_demand(html)
    assert {"fail_class", "withdraw", "transfer", "reject"} <= set(later)
    assert "pass_class" not in later
    for step, url in later.items():
        assert url == f"/cases/{case_id}/events/{step}"
        # without JavaScript the step's link opens the page with its form
        assert f'href="/cases/{case_id}?step={step}#event-{step}"' in html
    assert "<script>" not in html and "onclick" not in html and "ontoggle" not in html


def test_a_fetched_form_is_the_form_the_page_opens_with_step(app: Flask, engine: Engine) -> None:
    client, case_id = secretary_case(app, engine, "in_class")
    for step in ("fail_class", "transfer", "withdraw"):
        fragment = client.get(f"/cases/{case_id}/events/{step}")
        assert fragment.status_code == 200
        assert fragment.mimetype == "text/html"
        assert "no-store" in fragment.headers["Cache-Control"]
        body = fragment.get_data(as_text=True)
        assert "<html" not in body and "<details" not in body  # the form alone
        page = client.get(f"/cases/{case_id}?step={step}").get_data(as_text=True)
        assert built_forms(page) == [step]
        assert the_form(body, step) == the_form(page, step)
        form = the_form(body, step)
        assert 'name="csrf_token"' in form and 'name="version"' in form
        assert "data-confirm=" in form  # an other action asks before it is sent


def test_a_fetched_form_carries_a_working_csrf_token(engine: Engine) -> None:
    """With CSRF on, as served: the fragment's token records the step."""
    app = make_app(engine, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=False)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token is not None
    signed_in = client.post(
        "/login",
        data={"username": "secretary", "password": "ketnap-demo", "csrf_token": token.group(1)},
    )
    assert signed_in.status_code == 302
    case = case_in_state(engine, "in_class", user(engine, "secretary").organisation_id)
    form = the_form(
        client.get(f"/cases/{case.id}/events/withdraw").get_data(as_text=True), "withdraw"
    )
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    recorded = client.post(
        f"/cases/{case.id}/events/withdraw",
        data={**fields, "f.reason": "Chuyển công tác", "on": "16/03/2026"},
    )
    assert recorded.status_code == 302, recorded.get_data(as_text=True)[:2000]
    after = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Rút hồ sơ" in after


def test_a_step_the_reader_may_not_record_is_not_served(app: Flask, engine: Engine) -> None:
    client, case_id = secretary_case(app, engine, "in_class")
    assert client.get(f"/cases/{case_id}/events/confirm").status_code == 404  # not now
    assert client.get(f"/cases/{case_id}/events/nominate").status_code == 404
    assert client.get(f"/cases/{case_id}/events/no_such_step").status_code == 404
    # the committee's step, and any step to a reader who records none
    assert client.get(f"/cases/{case_id}/events/committee_vote").status_code == 404
    assert login(app, "auditor").get(f"/cases/{case_id}/events/withdraw").status_code == 404
    # a case outside the reader's scope: 404, as its page
    with engine.session() as session:
        outside = session.exec(
            select(Case.id).where(
                Case.open, Case.cell_id != user(engine, "secretary").organisation_id
            )
        ).first()
    assert outside is not None
    assert client.get(f"/cases/{outside}").status_code == 404
    assert client.get(f"/cases/{outside}/events/withdraw").status_code == 404
    anonymous = app.test_client().get(f"/cases/{case_id}/events/withdraw")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_form_sent_back_with_errors_is_built_open_with_them(app: Flask, engine: Engine) -> None:
    client, case_id = secretary_case(app, engine, "in_class")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    sent = client.post(
        f"/cases/{case_id}/events/withdraw",
        data={"version": version.group(1), "on": "16/03/2026", "f.reason": ""},
    )
    assert sent.status_code == 400
    html = sent.get_data(as_text=True)
    assert built_forms(html) == ["withdraw"]  # only the form that came back
    assert re.search(r'<details id="event-withdraw" class="[^"]*has-errors[^"]*"[^>]*open', html)
    assert "pass_class" in on_demand(html)
