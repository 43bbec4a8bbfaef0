"""The inbox in the browser's terms: /inbox — notifications about tasks, each leading to
the step's form, never "marked done" — /api/v1/inbox, and the flags on the case page."""

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


def test_the_helper_s_reminder_opens_the_helper_s_own_form(app: Flask, town: Town) -> None:
    case_id = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    helper = log_in(app, "sponsor")

    page = helper.get("/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    [papers] = re.findall(r'<section[^>]*data-stage="upcoming"[^>]*>.*?</section>', html, re.S)
    text = text_of(papers)
    assert "Tự kiểm điểm và nhận xét của người giúp đỡ" in text
    assert "Hạn: 02/03/2027 (còn 30 ngày)" in text  # the date under its own label
    assert "Người thực hiện" not in text
    form = f'href="/cases/{case_id}?step=record_helper_comment#event-record_helper_comment"'
    assert form in papers
    assert "Đánh dấu đã xong" not in html and "/done" not in html
    assert 'href="/tasks"' in html

    opened = helper.get(f"/cases/{case_id}?step=record_helper_comment").get_data(as_text=True)
    assert re.search(r'<details id="event-record_helper_comment"[^>]*open', opened)
    assert 'id="event-record_self_review"' not in opened  # the member's own paper


def test_nothing_can_be_marked_done_but_by_recording_the_step(app: Flask, town: Town) -> None:
    town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    [entry, *_] = town.inbox("sponsor")
    helper = log_in(app, "sponsor")
    token = csrf_of(helper.get("/inbox").get_data(as_text=True))
    assert helper.post(f"/inbox/{entry.item_id}/done", data={"csrf_token": token}).status_code in (
        404,
        405,
    )
    headers = bearer(app, town, "sponsor")
    api = app.test_client().post(f"/api/v1/inbox/{entry.item_id}/done", headers=headers)
    assert api.status_code in (404, 405)
    assert entry.item_id in [e.item_id for e in town.inbox("sponsor")]


def test_the_inbox_needs_a_login(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/inbox").status_code == 302
    assert client.get("/api/v1/inbox").status_code == 401


def test_api_users_read_their_inbox_as_json_with_the_step_s_form(app: Flask, town: Town) -> None:
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

    assert item["form_url"].endswith(
        f"/cases/{case_id}?step=record_helper_comment#event-record_helper_comment"
    )

    bad = client.get("/api/v1/inbox?status=soon", headers=headers)
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "status"
    assert "Trạng thái" in bad.get_json()["error"]["message"]


def test_the_inbox_api_lives_on_the_api_blueprint(app: Flask) -> None:
    endpoints = {r.rule: r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints["/api/v1/inbox"] == "api.inbox"
    assert endpoints["/api/v1/tasks"] == "api.tasks"
    assert "/inbox/<int:item_id>/done" not in endpoints


def test_the_helper_s_task_is_there_before_any_sweep_and_ends_when_recorded(
    app: Flask, town: Town
) -> None:
    """The task list is computed from the case, not from the reminders: no sweep ran,
    the inbox is empty, yet the helper's comment is a task; recording it ends it."""
    case_id = town.case_in("probationary", date(2026, 3, 2))
    helper = log_in(app, "sponsor")
    assert "data-stage" not in helper.get("/inbox").get_data(as_text=True)
    tasks = helper.get("/api/v1/tasks?mine=true").get_json()["items"]
    assert [(t["case_id"], t["event"]) for t in tasks] == [(case_id, "record_helper_comment")]
    assert tasks[0]["due"] == "2027-03-02"  # the probation papers' deadline
    version, helper_id = tasks[0]["version"], town.user("sponsor").member_id
    recorded = helper.post(
        f"/api/v1/cases/{case_id}/events",
        json={
            "event": "record_helper_comment",
            "version": version,
            "on": "2026-03-02",
            "data": {"helper_id": helper_id, "comment": "Tiến bộ, gương mẫu."},
        },
    )
    assert recorded.status_code == 200, recorded.get_json()
    assert helper.get("/api/v1/tasks?mine=true").get_json()["items"] == []


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
