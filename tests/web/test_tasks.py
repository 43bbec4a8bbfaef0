"""The task list in the browser's and the API's terms: /tasks and /api/v1/tasks list what
the user must do, each task opening its step's form on the case page; the case page
opens the step asked for or the reader's normal next step, keeps the other actions
behind one toggle that asks before each, and says who acts next when it is not the
reader; a committee's officers share a step and one claims it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlmodel import select
from werkzeug.security import generate_password_hash

from tests.web.support import case_in_state, fresh_case, login, text_of, user
from web import tasks as web_tasks
from workflow.engine import Engine
from workflow.models import AdminLogEntry, User
from workflow.ops.demo import DEMO_PASSWORD, World


def opened_forms(html: str) -> list[str]:
    return re.findall(r'<details id="event-(\w+)"[^>]*\bopen\b', html)


def other_actions(html: str) -> str:
    found = re.search(r'<details class="other-actions".*?</details>\s*</section>', html, re.S)
    assert found, "no 'other actions' toggle on the page"
    return found.group(0)


def add_officer(engine: Engine, username: str, organisation_id: int, full_name: str) -> None:
    with engine.session() as session:
        session.add(
            User(
                username=username,
                role="officer",
                organisation_id=organisation_id,
                full_name=full_name,
                password_hash=generate_password_hash(DEMO_PASSWORD),
            )
        )
        session.commit()


def test_the_secretary_s_tasks_open_each_step_s_form(app: Flask, engine: Engine) -> None:
    client = login(app, "secretary")
    html = client.get("/tasks").get_data(as_text=True)
    assert "Việc của tôi" in html and "Việc cần làm" in html
    mine = re.search(r'<ul class="task-list" id="my-tasks">.*?</ul>', html, re.S)
    assert mine is not None
    links = re.findall(r'class="task-open" href="/cases/(\d+)\?step=(\w+)#event-\2"', mine.group(0))
    assert links, "no task opens a form"
    case_id, step = links[0]
    page = client.get(f"/cases/{case_id}?step={step}").get_data(as_text=True)
    assert opened_forms(page) == [step]
    # the card's labels are followed by what they say: who acts, then the date
    text = text_of(mine.group(0))
    assert re.search(r"Người thực hiện Bí thư Chi bộ", text)
    assert re.search(r"Hạn \d\d/\d\d/\d{4}", text)


def test_the_tasks_are_ordered_overdue_first_then_by_due_date(app: Flask) -> None:
    items = login(app, "officer-tinh").get("/api/v1/tasks").get_json()["items"]
    dues = [i["due"] for i in items if i["due"]]
    assert dues == sorted(dues) and len(dues) > 3
    overdue = [i["overdue"] for i in items if i["due"]]
    assert overdue == sorted(overdue, reverse=True)  # every overdue one before the rest
    undated = [i["due"] is None for i in items]
    assert undated == sorted(undated)  # a task without a deadline comes last


def test_a_case_in_class_opens_the_pass_and_keeps_the_fail_behind_the_toggle(
    app: Flask, engine: Engine
) -> None:
    case = case_in_state(engine, "in_class", user(engine, "secretary").organisation_id)
    html = login(app, "secretary").get(f"/cases/{case.id}").get_data(as_text=True)
    assert opened_forms(html) == ["pass_class"]
    others = other_actions(html)
    assert "Thao tác khác" in others
    assert 'id="event-fail_class"' in others and 'id="event-pass_class"' not in others
    # each other action's form, fetched when opened, asks before it is sent
    fetched = re.findall(r'data-form="([^"]+)"', others)
    assert fetched and "<form" not in others
    client = login(app, "secretary")
    for url in fetched:
        form = re.search(r"<form[^>]*>", client.get(url).get_data(as_text=True))
        assert form is not None and "data-confirm=" in form.group(0), url
    assert "onclick" not in html and "onsubmit" not in html  # the CSP allows no inline JS


def test_an_other_action_opens_only_when_asked_for(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "verified", user(engine, "secretary").organisation_id)
    client = login(app, "secretary")
    assert opened_forms(client.get(f"/cases/{case.id}").get_data(as_text=True)) == ["cell_vote"]
    asked = client.get(f"/cases/{case.id}?step=withdraw").get_data(as_text=True)
    assert opened_forms(asked) == ["withdraw"]
    assert re.search(r'<details class="other-actions" id="other-actions"[^>]*open', asked)
    # an unknown or unrecordable step falls back to the normal next step
    bogus = client.get(f"/cases/{case.id}?step=confirm").get_data(as_text=True)
    assert opened_forms(bogus) == ["cell_vote"]


def test_the_case_page_says_who_acts_next_when_it_is_not_the_reader(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = user(engine, "secretary").organisation_id
    assert cell is not None
    case = fresh_case(engine, world, cell, "cell_resolved")
    html = login(app, "secretary").get(f"/cases/{case.id}").get_data(as_text=True)
    waiting = re.search(r'<section class="panel waiting".*?</section>', html, re.S)
    assert waiting is not None
    assert re.search(
        r"Chờ Đảng ủy xã Đông Lỗ: Đảng ủy cơ sở biểu quyết \(hạn \d\d/\d\d/\d{4}\)",
        text_of(waiting.group(0)),
    )
    assert opened_forms(html) == []  # nothing of the secretary's is waited for
    officer = login(app, "officer").get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'class="panel waiting"' not in officer
    assert opened_forms(officer) == ["committee_vote"]


def test_two_officers_share_a_decision_and_one_claims_it(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = user(engine, "secretary").organisation_id
    assert cell is not None
    case = fresh_case(engine, world, cell, "committee_resolved")
    committee = user(engine, "officer").organisation_id
    assert committee is not None
    add_officer(engine, "officer-2", committee, "Phạm Văn Hòa")
    first, second = login(app, "officer"), login(app, "officer-2")
    anchor = f'id="task-{case.id}-decide_admission"'
    for client in (first, second):
        html = client.get("/tasks").get_data(as_text=True)
        assert anchor in html and "chưa có ai" in html

    taken = second.post(f"/tasks/{case.id}/decide_admission/claim")
    assert taken.status_code == 302
    assert taken.headers["Location"].endswith(f"/tasks#task-{case.id}-decide_admission")
    card = re.search(anchor + r".*?</li>", first.get("/tasks").get_data(as_text=True), re.S)
    assert card is not None and "Người nhận việc Phạm Văn Hòa" in text_of(card.group(0))
    own = re.search(anchor + r".*?</li>", second.get("/tasks").get_data(as_text=True), re.S)
    assert own is not None and "Trả lại việc" in own.group(0)

    api = first.get("/api/v1/tasks?mine=true").get_json()["items"]
    [shared] = [i for i in api if i["case_id"] == case.id]
    assert shared["queue"] and shared["claimed_by"]["username"] == "officer-2"

    assert second.post(f"/tasks/{case.id}/decide_admission/unclaim").status_code == 302
    with engine.session() as session:
        actions = session.exec(
            select(AdminLogEntry.action).where(AdminLogEntry.record_table == "task_claim")
        ).all()
    assert sorted(actions) == ["claim_task", "unclaim_task"]


def test_the_api_claims_with_a_json_body_and_refuses_what_is_not_a_queue_s(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = user(engine, "secretary").organisation_id
    assert cell is not None
    case = fresh_case(engine, world, cell, "cell_resolved")
    officer = login(app, "officer")
    url = f"/api/v1/tasks/{case.id}/committee_vote/claim"
    assert officer.post(url).status_code == 400  # what a cross-site form could send
    claimed = officer.post(url, json={})
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"] == "officer"
    refused = officer.post(f"/api/v1/tasks/{case.id}/decide_admission/claim", json={})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "event"
    assert login(app, "secretary").post(url, json={}).status_code == 403
    back = officer.post(f"/api/v1/tasks/{case.id}/committee_vote/unclaim", json={})
    assert back.status_code == 200 and back.get_json()["claimed_by"] is None


def test_the_api_lists_the_caller_s_tasks_in_the_caller_s_language(app: Flask) -> None:
    client = login(app, "secretary")
    body = client.get("/api/v1/tasks?mine=true").get_json()
    assert body["items"] and all(i["mine"] for i in body["items"])
    assert body["mine"] == len(body["items"])
    item = body["items"][0]
    assert item["form_url"].endswith(f"/cases/{item['case_id']}?step={item['event']}")
    assert item["who"].startswith("Bí thư ")
    everything = client.get("/api/v1/tasks").get_json()["items"]
    assert len(everything) >= len(body["items"])
    bad = client.get("/api/v1/tasks?mine=yes")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "mine"


def test_the_home_pages_lead_to_the_tasks(app: Flask) -> None:
    for username in ("secretary", "officer", "sponsor"):
        html = login(app, username).get("/").get_data(as_text=True)
        assert 'id="my-tasks-summary"' in html, username
        assert 'href="/tasks"' in html
    sponsor = login(app, "sponsor").get("/").get_data(as_text=True)
    assert "?step=record_helper_comment" in sponsor


def test_a_form_sent_back_with_errors_is_the_only_one_open(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "probationary", user(engine, "secretary").organisation_id)
    client = login(app, "secretary")
    sent = client.post(
        f"/cases/{case.id}/events/record_helper_comment",
        data={"version": str(case.version), "on": "16/03/2026", "f.comment": ""},
    )
    assert sent.status_code in (400, 422)
    assert opened_forms(sent.get_data(as_text=True)) == ["record_helper_comment"]


def test_the_api_lists_tasks_a_page_at_a_time(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    client = login(app, "officer-tinh")
    whole = client.get("/api/v1/tasks").get_json()
    assert whole["next"] is None and not whole["total_capped"] and whole["total"] > 4
    monkeypatch.setattr(web_tasks, "PAGE_CASES", 2)
    seen: list[tuple[int, str]] = []
    url = "/api/v1/tasks"
    while url:
        page = client.get(url).get_json()
        assert len({i["case_id"] for i in page["items"]}) <= 2
        assert page["mine"] == sum(1 for i in page["items"] if i["mine"])
        seen += [(i["case_id"], i["event"]) for i in page["items"]]
        url = f"/api/v1/tasks?after={page['next']}" if page["next"] else ""
    assert sorted(seen) == sorted((i["case_id"], i["event"]) for i in whole["items"])
    refused = client.get("/api/v1/tasks?after=yesterday")
    assert refused.status_code == 400
    assert "after" in refused.get_data(as_text=True)


def test_the_task_page_lists_the_reader_s_tasks_a_page_at_a_time(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login(app, "secretary")
    mine = client.get("/api/v1/tasks?mine=true").get_json()["items"]
    assert len({i["case_id"] for i in mine}) > 2
    monkeypatch.setattr(web_tasks, "PAGE_CASES", 2)
    html = client.get("/tasks").get_data(as_text=True)
    more = re.search(r'id="my-tasks-next" href="([^"]+)"', html)
    assert more is not None and "Việc của tôi (" in html and "+)" in html
    later = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    first = set(re.findall(r'id="task-(\d+)-(\w+)"', html.split('id="other-tasks"')[0]))
    second = set(re.findall(r'id="task-(\d+)-(\w+)"', later))
    assert second and not first & second
