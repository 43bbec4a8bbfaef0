"""Every page of the UI, for every role: one table of expected statuses.

A new GET endpoint in the UI's blueprints without an entry here fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlmodel import select

from tests.web.support import login, text_of, user
from workflow.models import HelperAssignment, Member, Organisation

ROLES = ("secretary", "sponsor", "officer", "auditor", "admin")
UI_BLUEPRINTS = ("admin", "audit", "auth", "cases", "process_view", "rules")
ALL = dict.fromkeys(ROLES, 200)
ADMIN_ONLY = {role: 403 for role in ROLES} | {"admin": 200}
RECORDERS_ONLY = {"secretary": 200, "officer": 200, "sponsor": 403, "auditor": 403, "admin": 403}
LOG_READERS = {role: 403 for role in ROLES} | {"auditor": 200, "admin": 200}

Ids = dict[str, int]
# endpoint → (its URL given the ids of the demo, expected status per role)
PAGES: dict[str, tuple[Callable[[Ids], str], dict[str, int]]] = {
    "cases.dashboard": (lambda i: "/", ALL),
    "cases.index": (lambda i: "/cases?state=open&deadline=any&year=2025&q=a&page=1", ALL),
    "cases.new": (lambda i: "/cases/new", RECORDERS_ONLY),
    "cases.show": (lambda i: f"/cases/{i['case']}", ALL),
    # a step's form alone, as the case page fetches it: 404 where the role records none
    "cases.event_form": (
        lambda i: f"/cases/{i['case']}/events/transfer",
        {"secretary": 200, "officer": 200, "sponsor": 404, "auditor": 404, "admin": 404},
    ),
    "audit.case": (lambda i: f"/audit/cases/{i['case']}", ALL),
    "audit.print_view": (lambda i: f"/audit/cases/{i['case']}/print", ALL),
    "audit.history_csv": (lambda i: f"/audit/cases/{i['case']}/history.csv", ALL),
    "audit.admin_log_page": (lambda i: "/audit/admin-log", LOG_READERS),
    "audit.admin_log_csv": (lambda i: "/audit/admin-log.csv", LOG_READERS),
    "audit.ledger_page": (lambda i: "/audit/ledger", LOG_READERS),
    "audit.checkpoints_json": (lambda i: "/audit/ledger/checkpoints.json", LOG_READERS),
    "audit.integrity_progress": (
        lambda i: "/audit/integrity/999999.json",  # nobody's: 404 for those who may read
        {role: 403 for role in ROLES} | {"auditor": 404, "admin": 404},
    ),
    "rules.show": (lambda i: "/rules", ALL),
    "process_view.show": (lambda i: "/process", ALL),
    "admin.index": (lambda i: "/admin/", ADMIN_ONLY),
    "admin.users": (lambda i: "/admin/users", ADMIN_ONLY),
    "admin.user": (lambda i: f"/admin/users/{i['user']}", ADMIN_ONLY),
    "admin.organisations": (lambda i: "/admin/organisations", ADMIN_ONLY),
    "admin.organisation": (lambda i: f"/admin/organisations/{i['cell']}", ADMIN_ONLY),
    "admin.members": (lambda i: f"/admin/members?cell={i['cell']}", ADMIN_ONLY),
    "admin.member": (lambda i: f"/admin/members/{i['member']}", ADMIN_ONLY),
    "auth.login": (lambda i: "/login", dict.fromkeys(ROLES, 302)),
    "auth.resume": (lambda i: "/resume", dict.fromkeys(ROLES, 302)),  # nothing kept
}


def demo_ids(app: Flask) -> Ids:
    """A case every role can see: one the demo sponsor helps, in the secretary's cell."""
    engine = app.extensions["ketnap.engine"]
    sponsor = user(engine, "sponsor")
    with engine.session() as session:
        case_id = session.exec(
            select(HelperAssignment.case_id).where(HelperAssignment.member_id == sponsor.member_id)
        ).first()
        member = session.get(Member, sponsor.member_id)
        cell = session.get(Organisation, member.cell_id if member else 0)
    assert case_id and member and cell
    return {
        "case": case_id,
        "user": sponsor.id or 0,
        "member": member.id or 0,
        "cell": cell.id or 0,
    }


def test_every_ui_page_has_an_entry_in_the_table(shared_app: Flask) -> None:
    pages = {
        rule.endpoint
        for rule in shared_app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.endpoint.split(".")[0] in UI_BLUEPRINTS
    }
    assert pages == set(PAGES), "add the new page to PAGES with its status for each role"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_on_every_page(shared_app: Flask, role: str) -> None:
    ids = demo_ids(shared_app)
    client = login(shared_app, role)
    for endpoint, (url, expected) in PAGES.items():
        response = client.get(url(ids))
        assert response.status_code == expected[role], f"{role} GET {endpoint}"


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(shared_app: Flask) -> None:
    ids = demo_ids(shared_app)
    client = shared_app.test_client()
    for endpoint, (url, _expected) in PAGES.items():
        response = client.get(url(ids))
        if endpoint == "auth.login":
            assert response.status_code == 200
            continue
        assert response.status_code == 302, endpoint
        assert response.location.startswith("/login?next=")


def test_pages_speak_vietnamese_by_default(shared_app: Flask) -> None:
    client = login(shared_app, "secretary")
    page = text_of(client.get("/").get_data(as_text=True))
    for words in ("Tổng quan", "Hồ sơ", "Giới thiệu quần chúng", "Quy trình", "Đăng xuất"):
        assert words in page
    assert "Overview" not in page


def test_the_login_page_is_in_vietnamese(shared_app: Flask) -> None:
    page = text_of(shared_app.test_client().get("/login").get_data(as_text=True))
    assert "Đăng nhập" in page and "Mật khẩu" in page


def test_english_can_be_chosen_and_is_kept_in_the_session(shared_app: Flask) -> None:
    client = login(shared_app, "officer")
    response = client.post("/locale", data={"locale": "en", "next": "/cases"})
    assert response.status_code == 302 and response.location == "/cases"
    page = text_of(client.get("/").get_data(as_text=True))
    assert "Overview" in page and "Tổng quan" not in page
    client.post("/locale", data={"locale": "vi"})
    assert "Tổng quan" in text_of(client.get("/").get_data(as_text=True))


def test_the_locale_switch_never_redirects_off_site(shared_app: Flask) -> None:
    client = shared_app.test_client()
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post("/locale", data={"locale": "en", "next": target})
        assert response.location == "/"


def test_an_unknown_page_answers_a_vietnamese_404(shared_app: Flask) -> None:
    client = login(shared_app, "secretary")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Không tìm thấy" in response.get_data(as_text=True)


def test_dates_are_shown_as_day_month_year(shared_app: Flask) -> None:
    client = login(shared_app, "secretary")
    page = text_of(client.get("/").get_data(as_text=True))
    assert "Hôm nay là ngày 16/03/2026" in page


def test_the_process_page_lists_every_event_of_the_process_table(shared_app: Flask) -> None:
    from workflow import process

    client = login(shared_app, "auditor")
    html = client.get("/process").get_data(as_text=True)
    for event in process.EVENTS:
        assert f'id="event-{event.name}"' in html
    assert '<svg class="process-diagram"' in html and "<script" not in html.split("</main>")[0]


def test_an_id_too_large_for_the_database_is_a_404_not_a_crash(shared_app: Flask) -> None:
    client = login(shared_app, "admin")
    huge = "9" * 25
    for url in (f"/cases/{huge}", f"/audit/cases/{huge}", f"/admin/users/{huge}"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/cases?cell={huge}&page={huge}&year={huge}").status_code == 200


def test_a_case_list_beyond_the_count_cap_says_more_than(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province's cases are not counted one by one: past the cap the list says
    'more than' and its pages stop there (the demo has 42 cases; the cap is made 5)."""
    from workflow.queries import case_list

    monkeypatch.setattr(case_list, "COUNT_CAP", 5)
    client = login(app, "officer")
    page = client.get("/cases").get_data(as_text=True)
    assert "Tìm thấy hơn 5 hồ sơ" in page
    few = client.get("/cases?state=official").get_data(as_text=True)
    assert "Tìm thấy hơn" not in few
