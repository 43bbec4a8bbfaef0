"""Scoping (404 outside your scope), roles on the server, the auditor's read-only
access, CSRF, login rate limiting, security headers and cookies."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.web.support import case_in_state, login, make_app, text_of, user
from workflow.engine import Engine
from workflow.models import Case

UI_BLUEPRINTS = ("admin", "audit", "cases", "process_view")
STRONG_KEY = "an https site needs a key of 32 characters or more"


def secretary_case(engine: Engine, state: str = "nominated") -> int:
    cell = user(engine, "secretary").organisation_id
    case = case_in_state(engine, state, cell)
    assert case.id is not None
    return case.id


def test_a_secretary_of_another_cell_gets_404_for_the_case(shared_app: Flask) -> None:
    engine = shared_app.extensions["ketnap.engine"]
    case_id = secretary_case(engine)
    other = login(shared_app, "secretary-2")
    for url in (
        f"/cases/{case_id}",
        f"/audit/cases/{case_id}",
        f"/audit/cases/{case_id}/history.csv",
    ):
        assert other.get(url).status_code == 404, url
    response = other.post(
        f"/cases/{case_id}/events/withdraw",
        data={"version": 1, "f.reason": "x", "on": "01/03/2026"},
    )
    assert response.status_code == 404


def test_an_officer_of_another_committee_gets_404(shared_app: Flask) -> None:
    engine = shared_app.extensions["ketnap.engine"]
    case_id = secretary_case(engine)
    assert login(shared_app, "officer").get(f"/cases/{case_id}").status_code == 200
    assert login(shared_app, "officer-bang-lung").get(f"/cases/{case_id}").status_code == 404


def test_the_case_list_shows_only_cases_in_scope(shared_app: Flask) -> None:
    engine = shared_app.extensions["ketnap.engine"]
    case_id = secretary_case(engine)
    mine = login(shared_app, "secretary").get("/cases").get_data(as_text=True)
    theirs = login(shared_app, "secretary-2").get("/cases").get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in mine
    assert f'href="/cases/{case_id}"' not in theirs


def post_endpoints(app: Flask) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint.split(".")[0] in UI_BLUEPRINTS
    )


def test_every_form_is_refused_403_to_an_auditor(app: Flask, engine: Engine) -> None:
    from workflow import process

    case_id = secretary_case(engine)
    auditor = login(app, "auditor")
    urls = []
    for rule in post_endpoints(app):
        if "<event_name>" in rule:
            urls += [
                rule.replace("<int:case_id>", str(case_id)).replace("<event_name>", e.name)
                for e in process.EVENTS
            ]
        else:
            urls.append(re.sub(r"<int:\w+>", "1", rule))
    assert len(urls) > len(process.EVENTS)
    # the one form an auditor has asks for an integrity check: it reads, it changes nothing
    assert auditor.post("/audit/integrity").status_code == 302
    urls.remove("/audit/integrity")
    for url in urls:
        assert auditor.post(url, data={"version": 1, "on": "01/03/2026"}).status_code == 403, url
    page = auditor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'class="event-form"' not in page
    assert "Chế độ chỉ xem" in text_of(page)


def test_an_auditor_changes_nothing(app: Flask, engine: Engine) -> None:
    case_id = secretary_case(engine)
    with engine.session() as session:
        from workflow.models import Case

        before = session.get(Case, case_id)
        assert before is not None
    login(app, "auditor").post(
        f"/cases/{case_id}/events/enrol_in_class",
        data={"version": before.version, "f.class_name": "x", "f.issuer": "y", "on": "01/03/2026"},
    )
    with engine.session() as session:
        after = session.get(Case, case_id)
        assert after is not None and after.version == before.version


def test_roles_that_may_not_nominate_get_403(shared_app: Flask) -> None:
    for role in ("sponsor", "auditor", "admin"):
        assert login(shared_app, role).post("/cases/new", data={}).status_code == 403


def test_admin_pages_are_refused_to_everyone_else(shared_app: Flask) -> None:
    for role in ("secretary", "sponsor", "officer", "auditor"):
        client = login(shared_app, role)
        assert client.get("/admin/users").status_code == 403
        assert client.post("/admin/users", data={"username": "x"}).status_code == 403


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_forms_without_the_csrf_token_are_refused(engine: Engine) -> None:
    app = make_app(engine, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"username": "secretary", "password": "ketnap-demo"})
    assert response.status_code == 400
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "secretary", "password": "ketnap-demo", "csrf_token": token}
    )
    assert response.status_code == 302
    case_id = secretary_case(engine)
    before = client.get(f"/cases/{case_id}").get_data(as_text=True)
    response = client.post(
        f"/cases/{case_id}/events/withdraw",
        data={"version": 1, "f.reason": "x", "on": "01/03/2026"},
    )
    # refused, nothing recorded: the form comes back filled for the user to send it
    # with a valid token (tests/web/test_expired_session.py)
    assert response.status_code == 302 and response.location.endswith("/resume")
    assert "csrf_token" in before
    with engine.session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.state != "withdrawn"


@pytest.fixture
def limited_app(engine: Engine) -> Flask:
    # the counts live in the test's own database: nothing to reset
    return make_app(engine, RATELIMIT_ENABLED=True, KETNAP_LOGIN_LIMIT="3 per minute")


def test_repeated_failed_logins_are_rate_limited_per_user(limited_app: Flask) -> None:
    client = limited_app.test_client()
    for _attempt in range(3):
        response = client.post("/login", data={"username": "officer", "password": "wrong"})
        assert response.status_code == 401
    response = client.post("/login", data={"username": "officer", "password": "ketnap-demo"})
    assert response.status_code == 429
    assert "quá nhiều lần" in text_of(response.get_data(as_text=True))
    other = client.post("/login", data={"username": "secretary", "password": "ketnap-demo"})
    assert other.status_code == 302, "another username from the same address is not locked"


def test_successful_logins_do_not_count_against_the_limit(limited_app: Flask) -> None:
    for _attempt in range(5):
        client = limited_app.test_client()
        response = client.post("/login", data={"username": "auditor", "password": "ketnap-demo"})
        assert response.status_code == 302


def test_wrong_password_is_refused_with_a_message(shared_app: Flask) -> None:
    response = shared_app.test_client().post(
        "/login", data={"username": "secretary", "password": "nope"}
    )
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in text_of(response.get_data(as_text=True))


def test_login_never_redirects_off_site(shared_app: Flask) -> None:
    response = shared_app.test_client().post(
        "/login",
        data={"username": "secretary", "password": "ketnap-demo", "next": "https://evil.example"},
    )
    assert response.location == "/"


def test_logout_ends_the_session(shared_app: Flask) -> None:
    client = login(shared_app, "secretary")
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_pages_carry_security_headers_and_a_self_only_policy(shared_app: Flask) -> None:
    client = login(shared_app, "secretary")
    response = client.get("/cases")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    case_id = secretary_case(shared_app.extensions["ketnap.engine"])
    for url in ("/process", f"/cases/{case_id}"):  # the diagrams are drawn on the server
        assert client.get(url).headers["Content-Security-Policy"] == policy, url


def test_the_session_cookie_is_http_only_and_same_site(engine: Engine) -> None:
    app = make_app(engine, SESSION_COOKIE_SECURE=True)
    response = app.test_client().post(
        "/login", data={"username": "secretary", "password": "ketnap-demo"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_no_page_loads_anything_from_another_site(shared_app: Flask) -> None:
    client = login(shared_app, "secretary")
    for url in ("/", "/cases", "/process", "/cases/new"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), url


# ── no copy of personal data in any cache ────────────────────────────────
def get_urls(app: Flask, prefix: str, case_id: int) -> list[str]:
    """Every GET route under `prefix`, its ids filled with `case_id` (or 1)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or "GET" not in (rule.methods or ()):
            continue
        url = rule.rule.replace("<int:case_id>", str(case_id))
        urls.append(re.sub(r"<(int:)?\w+>", "1", url))
    return sorted(urls)


def no_store(response: object) -> bool:
    cache = getattr(response, "cache_control")  # noqa: B009 — a werkzeug response
    return bool(cache.no_store)


def test_every_api_answer_is_no_store_errors_and_the_token_included(
    shared_app: Flask,
) -> None:
    engine = shared_app.extensions["ketnap.engine"]
    case_id = secretary_case(engine)
    client = shared_app.test_client()
    token = client.post("/api/v1/token", json={"username": "admin", "password": "ketnap-demo"})
    assert token.status_code == 200 and no_store(token)
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    urls = get_urls(shared_app, "/api/v1/", case_id)
    assert f"/api/v1/cases/{case_id}" in urls and len(urls) > 15
    answered = set()
    for url in urls:
        response = client.get(url, headers=headers)
        answered.add(response.status_code)
        assert response.status_code < 500, url
        assert no_store(response), f"{url} {response.status_code}: {response.cache_control}"
    assert 200 in answered
    for anonymous in ("/api/v1/cases", f"/api/v1/cases/{case_id}", "/api/v1/nothing"):
        response = client.get(anonymous)
        assert response.status_code in (401, 404) and no_store(response), anonymous


def test_every_signed_in_page_and_download_is_no_store_static_files_are_not(
    shared_app: Flask,
) -> None:
    engine = shared_app.extensions["ketnap.engine"]
    case_id = secretary_case(engine)
    secretary, auditor = login(shared_app, "secretary"), login(shared_app, "auditor")
    pages = [f"/cases/{case_id}", "/cases", "/", "/inbox", "/process"]
    for url in pages:
        response = secretary.get(url)
        assert response.status_code == 200 and no_store(response), url
    for url in (f"/audit/cases/{case_id}", f"/audit/cases/{case_id}/history.csv"):
        response = auditor.get(url)
        assert response.status_code == 200 and no_store(response), url
    asset = secretary.get("/static/css/ketnap.css")
    asset.close()
    assert asset.status_code == 200 and not no_store(asset)


# ── links start with base_url, whatever Host the client sends ────────────
@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("http://evil.example/", "https://ketnap.example.vn/cases/7"),
        ("http://evil.example:8080/ketnap/", "https://ketnap.example.vn/cases/7"),
    ],
)
def test_absolute_links_follow_base_url_not_the_host_header(
    engine: Engine, requested: str, expected: str
) -> None:
    from flask import url_for

    app = make_app(engine, KETNAP_BASE_URL="https://ketnap.example.vn", SECRET_KEY=STRONG_KEY)
    with app.test_request_context("/", base_url=requested):
        assert url_for("cases.show", case_id=7, _external=True) == expected
        assert url_for("cases.show", case_id=7).endswith("/cases/7")  # relative stays
        assert url_for("cases.show", case_id=7, _anchor="t", _external=True) == expected + "#t"


def test_a_base_url_with_a_prefix_keeps_it_once(engine: Engine) -> None:
    from flask import url_for

    app = make_app(engine, KETNAP_BASE_URL="https://example.vn/ketnap/", SECRET_KEY=STRONG_KEY)
    with app.test_request_context("/", base_url="http://127.0.0.1:8000/ketnap/"):
        assert url_for("cases.index", _external=True) == "https://example.vn/ketnap/cases"
    with app.test_request_context("/", base_url="http://127.0.0.1:8000/"):
        assert url_for("cases.index", _external=True) == "https://example.vn/ketnap/cases"
