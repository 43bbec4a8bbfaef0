"""The inbox in the browser's terms: /inbox, marking done with CSRF, /api/v1/inbox, and
the flags on the case page."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.reminders.conftest import Town
from web import auth
from web.app import create_app
from workflow.ops.demo import DEMO_PASSWORD

WARNED = date(2027, 1, 31)  # 30 days before the end of a probation begun on 02/03/2026


@pytest.fixture
def app(town: Town) -> Flask:
    return create_app(
        town.engine,
        town.config,
        TESTING=True,
        SECRET_KEY="inbox-test-secret",
        RATELIMIT_ENABLED=False,
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, f"{username} could not log in"
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def bearer(app: Flask, town: Town, username: str) -> dict[str, str]:
    with app.test_request_context():
        return {"Authorization": f"Bearer {auth.issue_token(town.user(username))}"}


def test_the_helper_finds_the_reminder_in_the_inbox_and_marks_it_done(
    app: Flask, town: Town
) -> None:
    case_id = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    helper = log_in(app, "sponsor")

    page = helper.get("/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    [papers] = re.findall(r'<section[^>]*data-stage="upcoming"[^>]*>.*?</section>', html, re.S)
    text = text_of(papers)
    assert "Tự kiểm điểm và nhận xét của người giúp đỡ" in text
    assert "02/03/2027 (còn 30 ngày)" in text
    assert f'href="/cases/{case_id}"' in papers
    item_id = int(re.search(r'id="item-(\d+)"', papers).group(1))  # type: ignore[union-attr]

    # a form post without the CSRF token changes nothing (it is offered again, to send
    # with a valid token: web/auth.py keeps an expired form)
    refused = helper.post(f"/inbox/{item_id}/done")
    assert refused.status_code == 302 and refused.location.endswith("/resume")
    assert f'id="item-{item_id}"' in helper.get("/inbox").get_data(as_text=True)

    done = helper.post(f"/inbox/{item_id}/done", data={"csrf_token": csrf_of(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"?done={item_id}")
    assert f'id="item-{item_id}"' not in helper.get("/inbox").get_data(as_text=True)
    assert f'id="item-{item_id}"' in helper.get("/inbox?show=done").get_data(as_text=True)


def test_nobody_marks_another_user_s_item_done(app: Flask, town: Town) -> None:
    town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    [entry, *_] = town.inbox("sponsor")
    other = log_in(app, "secretary-2")
    token = csrf_of(other.get("/inbox").get_data(as_text=True))
    assert other.post(f"/inbox/{entry.item_id}/done", data={"csrf_token": token}).status_code == 404
    assert other.post("/inbox/999999/done", data={"csrf_token": token}).status_code == 404
    assert entry.item_id in [e.item_id for e in town.inbox("sponsor")]


def test_the_inbox_needs_a_login(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/inbox").status_code == 302
    assert client.get("/api/v1/inbox").status_code == 401


def test_api_users_read_their_inbox_as_json_and_mark_items_done(app: Flask, town: Town) -> None:
    case_id = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    client = app.test_client()
    headers = bearer(app, town, "sponsor")

    listing = client.get("/api/v1/inbox", headers=headers)
    assert listing.status_code == 200
    body = listing.get_json()
    papers = [i for i in body["items"] if i["deadline"] == "probation_papers"]
    assert len(papers) == 1 and body["open"] == len(body["items"])
    [item] = papers
    assert item["case_id"] == case_id and item["case_url"].endswith(f"/cases/{case_id}")
    assert (item["stage"], item["warn_days"], item["due"]) == ("upcoming", 30, "2027-03-02")
    assert item["what"] == "Tự kiểm điểm và nhận xét của người giúp đỡ"
    assert item["when"] == "02/03/2027 (còn 30 ngày)"

    marked = client.post(f"/api/v1/inbox/{item['id']}/done", headers=headers)
    assert marked.status_code == 200 and marked.get_json()["status"] == "done"
    after = client.get("/api/v1/inbox?status=done", headers=headers).get_json()
    assert [i["id"] for i in after["items"]] == [item["id"]]

    bad = client.get("/api/v1/inbox?status=soon", headers=headers)
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "status"
    assert "Trạng thái" in bad.get_json()["error"]["message"]


def test_the_inbox_api_lives_on_the_api_blueprint(app: Flask) -> None:
    endpoints = {r.rule: r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints["/api/v1/inbox"] == "api.inbox"
    assert endpoints["/api/v1/inbox/<int:item_id>/done"] == "api.inbox_item_done"
    assert endpoints["/inbox/<int:item_id>/done"] == "inbox.done"


def test_a_session_may_mark_done_through_the_api_only_with_a_json_body(
    app: Flask, town: Town
) -> None:
    town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    [entry, *_] = town.inbox("sponsor")
    helper = log_in(app, "sponsor")
    # what a cross-site form could send: refused
    assert helper.post(f"/api/v1/inbox/{entry.item_id}/done").status_code == 400
    assert helper.post(f"/api/v1/inbox/{entry.item_id}/done", json={}).status_code == 200


def test_the_secretary_sees_the_case_flagged_on_its_page(app: Flask, town: Town) -> None:
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    town.sweep(date(2026, 3, 24))  # the ceremony is overdue since yesterday
    secretary = log_in(app, "secretary")
    page = secretary.get(f"/cases/{case_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    [flags] = re.findall(r'<section[^>]*id="reminders".*?</section>', html, re.S)
    assert 'data-deadline="ceremony" data-stage="overdue"' in flags
    assert "badge-overdue" in flags and "quá hạn" in flags
    assert "23/03/2026" in flags
    assert "Bí thư" in text_of(flags) or "Nguyễn Văn Bình" in text_of(flags)

    inbox = text_of(secretary.get("/inbox").get_data(as_text=True))
    assert "Tổ chức lễ kết nạp" in inbox and "23/03/2026 (đã quá hạn 1 ngày)" in inbox
