"""A form sent after its session expired keeps what was typed: through the login, then
shown filled in for one tap — never "the form could not be read" and the data lost."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.web.support import case_in_state, make_app, text_of
from tests.web.test_cases import dmy, secretary_cell
from workflow.engine import Engine
from workflow.ops.demo import DEMO_PASSWORD


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries a CSRF token"
    return found.group(1)


def log_in(client: FlaskClient, next_path: str = "") -> FlaskClient:
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "csrf_token": token(page),
            "username": "secretary",
            "password": DEMO_PASSWORD,
            "next": next_path,
        },
    )
    assert response.status_code == 302
    return client


def csrf_app(engine: Engine) -> Flask:
    return make_app(engine, WTF_CSRF_ENABLED=True)


def test_a_step_sent_after_the_session_expired_is_kept_through_the_login(
    engine: Engine,
) -> None:
    app = csrf_app(engine)
    case = case_in_state(engine, "nominated", secretary_cell(engine))
    client = log_in(app.test_client())
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    form = {
        "csrf_token": token(page),
        "version": str(case.version),
        "f.class_name": "Lớp nhận thức 5/2026",
        "f.issuer": "Trung tâm Chính trị huyện",
        "on": dmy(1),
    }
    expired = app.test_client()  # the session cookie is gone: it expired
    response = expired.post(f"/cases/{case.id}/events/enrol_in_class", data=form)
    assert response.status_code == 302 and "/login" in response.location
    assert "resume" in response.location
    login_page = text_of(expired.get(response.location).get_data(as_text=True))
    assert "Phiên làm việc đã hết hạn" in login_page and "vẫn được giữ" in login_page
    after = log_in(expired, "/resume").get("/resume")
    html = after.get_data(as_text=True)
    assert after.status_code == 200
    assert 'value="Lớp nhận thức 5/2026"' in html and f'value="{dmy(1)}"' in html
    assert f'action="/cases/{case.id}/events/enrol_in_class"' in html
    sent = expired.post(
        f"/cases/{case.id}/events/enrol_in_class", data={**form, "csrf_token": token(html)}
    )
    assert sent.status_code == 302
    with engine.session() as session:
        from workflow.models import Case

        stored = session.get(Case, case.id)
        assert stored is not None and stored.state == "in_class"
    assert expired.get("/resume").status_code == 302  # shown once, then forgotten


def test_an_expired_form_token_while_logged_in_shows_the_form_again_filled(
    engine: Engine,
) -> None:
    app = csrf_app(engine)
    client = log_in(app.test_client())
    response = client.post(
        "/cases/new",
        data={"csrf_token": "stale", "f.person.full_name": "Trần Thị Mai", "on": dmy(1)},
    )
    assert response.status_code == 302 and response.location.endswith("/resume")
    html = client.get("/resume").get_data(as_text=True)
    assert "Biểu mẫu đã hết hạn" in text_of(html)
    assert 'value="Trần Thị Mai"' in html and 'action="/cases/new"' in html


def test_the_login_form_itself_expired_asks_to_log_in_again(engine: Engine) -> None:
    app = csrf_app(engine)
    response = app.test_client().post(
        "/login", data={"csrf_token": "stale", "username": "secretary", "password": "x"}
    )
    assert response.status_code == 400
    assert "Trang đăng nhập đã hết hạn" in text_of(response.get_data(as_text=True))
