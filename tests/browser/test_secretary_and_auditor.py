"""The issue's browser scenario, in real Chromium against a real server: a secretary
nominates a candidate, records the class and the sponsors, sees a refusal next to the
field, fixes it and sees the timeline; an auditor finds the history intact. In Vietnamese."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlmodel import col, select

from tests.browser.conftest import LiveServer, screenshot
from tests.web.support import members_of, user
from workflow.models import Case, Organisation, Person

pytestmark = pytest.mark.browser

CANDIDATE = "Hoàng Thị Minh Nguyệt"


def log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("ketnap-demo")
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Xin chào")


def log_out(page: Page) -> None:
    """Switch users as a person does: the server ends the session before the next login
    (clearing cookies could race a navigation still in flight that sets them again)."""
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()


def wait_for_diagram(page: Page) -> None:
    """The case's stepper or the process diagram: drawn on the server, no script."""
    expect(page.locator(".stepper-bar, svg.process-diagram").first).to_be_visible()


def record(page: Page, event: str, fields: dict[str, str]) -> None:
    form = page.locator(f"#event-{event}")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    for name, value in fields.items():
        widget = form.locator(f'[name="{name}"]')
        if widget.evaluate("e => e.tagName") == "SELECT":
            widget.select_option(value)
        else:
            widget.fill(value)
    form.locator("button[type=submit]").click()


def test_a_secretary_takes_a_candidate_from_nomination_to_sponsors(
    page: Page, live_server: LiveServer
) -> None:
    engine = live_server.engine
    cell = user(engine, "secretary").organisation_id
    assert cell is not None
    officials = members_of(engine, cell, "official")
    probationary = members_of(engine, cell, "probationary")[0]

    log_in(page, live_server, "secretary")
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Việc cần làm theo thời hạn")
    screenshot(page, "01-dashboard-secretary")

    page.get_by_role("link", name="Giới thiệu quần chúng").first.click()
    expect(page.get_by_role("heading", name="Giới thiệu quần chúng ưu tú")).to_be_visible()
    page.locator('[name="f.person.full_name"]').fill(CANDIDATE)
    page.locator('[name="f.person.birth_date"]').fill("04/09/1991")
    page.locator('[name="f.person.gender"]').select_option("female")
    page.locator('[name="f.person.occupation"]').select_option("public_employee")
    page.locator('[name="f.person.village"]').fill("Thôn Hương Câu")
    page.locator('[name="f.nominated_by"]').select_option("womens_union")
    page.locator('[name="f.nomination_ref"]').fill("15-GT/PN")
    screenshot(page, "02-nominate-form")
    page.get_by_role("button", name="Lập hồ sơ").click()

    expect(page.get_by_role("heading", name=CANDIDATE)).to_be_visible()
    expect(page.locator(".flash-success")).to_contain_text("Đã mở hồ sơ số")
    wait_for_diagram(page)
    screenshot(page, "03-case-nominated")

    record(
        page,
        "enrol_in_class",
        {
            "f.class_name": "Lớp nhận thức về Đảng khóa 3/2026",
            "f.issuer": "Trung tâm Chính trị huyện",
        },
    )
    expect(page.locator(".flash-success")).to_contain_text("Cử đi học lớp nhận thức về Đảng")
    record(page, "pass_class", {"f.certificate_no": "GCN-0316"})
    expect(page.locator(".case-title .badge")).to_have_text("Đã có giấy chứng nhận")

    # A probationary member cannot sponsor: the refusal sits next to the sponsors.
    # (members are picked by name: the name typed in full is resolved by the server)
    record(
        page,
        "assign_sponsors",
        {
            "f.sponsors.0.member_id.label": officials[2].full_name,
            "f.sponsors.0.alongside_since": "01/01/2022",
            "f.sponsors.1.member_id.label": probationary.full_name,
            "f.sponsors.1.alongside_since": "01/01/2022",
        },
    )
    error = page.locator('[data-path="sponsors.1.member_id"] .field-error')
    expect(error).to_be_visible()
    expect(error).to_contain_text("không phải đảng viên chính thức")
    expect(error).to_contain_text("Điều lệ Đảng")
    expect(page.locator('[name="f.sponsors.1.alongside_since"]')).to_have_value("01/01/2022")
    error.scroll_into_view_if_needed()
    screenshot(page, "04-sponsor-refused")

    page.locator('[name="f.sponsors.1.member_id.label"]').fill(officials[3].full_name)
    page.locator("#event-assign_sponsors button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Phân công người giới thiệu")
    timeline = page.locator("#timeline")
    for step in (
        "Giới thiệu quần chúng ưu tú",
        "Cử đi học lớp nhận thức về Đảng",
        "Hoàn thành lớp, cấp giấy chứng nhận",
        "Phân công người giới thiệu",
    ):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("Lịch sử toàn vẹn")
    wait_for_diagram(page)
    screenshot(page, "05-case-sponsored-timeline")

    page.locator(".main-nav").get_by_role("link", name="Hồ sơ", exact=True).click()
    page.get_by_label("Họ tên hoặc số CCCD").fill("Nguyệt")
    page.get_by_role("button", name="Tìm kiếm").click()
    expect(page.locator("main table")).to_contain_text(CANDIDATE)
    screenshot(page, "06-case-list-search")


def test_an_auditor_sees_the_history_intact_in_vietnamese(
    page: Page, live_server: LiveServer
) -> None:
    with live_server.engine.session() as session:
        case_id = session.exec(
            select(Case.id).join(Person, col(Person.id) == Case.person_id).order_by(col(Case.id))
        ).first()
    log_in(page, live_server, "auditor")
    page.goto(f"{live_server.url}/cases/{case_id}")
    expect(page.locator("main")).to_contain_text("Chế độ chỉ xem")
    expect(page.locator("form.event-form")).to_have_count(0)
    wait_for_diagram(page)
    screenshot(page, "07-case-auditor")
    page.get_by_role("link", name="Lịch sử và toàn vẹn").click()
    expect(page.locator("#integrity")).to_contain_text("Lịch sử toàn vẹn")
    expect(page.locator("#integrity")).to_have_attribute("data-intact", "true")
    screenshot(page, "08-audit-history")
    page.get_by_role("link", name="Bản in (PDF)").click()
    expect(page.locator("main")).to_contain_text("Lịch sử toàn vẹn")
    screenshot(page, "09-audit-print")


def test_the_other_pages_render_in_vietnamese(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/process")
    expect(page.get_by_role("heading", name="Quy trình kết nạp đảng viên")).to_be_visible()
    wait_for_diagram(page)
    screenshot(page, "10-process")
    page.goto(f"{live_server.url}/")
    expect(page.locator("main")).to_contain_text(re.compile("Hồ sơ của mọi chi bộ trực thuộc"))
    screenshot(page, "11-dashboard-officer")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()

    log_out(page)
    log_in(page, live_server, "sponsor")
    expect(page.get_by_role("heading", name="Người tôi giới thiệu, giúp đỡ")).to_be_visible()
    screenshot(page, "12-dashboard-sponsor")

    log_out(page)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/users")
    expect(page.get_by_role("heading", name="Người dùng", exact=True)).to_be_visible()
    screenshot(page, "13-admin-users")
    page.goto(f"{live_server.url}/login")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/cases")
    screenshot(page, "14-cases-phone", full_page=False)
    page.goto(f"{live_server.url}/cases/1")
    screenshot(page, "15-case-phone", full_page=False)


def test_an_other_action_s_form_is_fetched_when_opened_and_asks_before_it_is_sent(
    page: Page, live_server: LiveServer
) -> None:
    """The case page carries only the next step's form: "Thao tác khác" → a step fetches
    its form from the server (GET /cases/<id>/events/<step>) into the page, where it
    asks for confirmation before it is sent (declined: nothing sent, the button stays),
    then records the step."""
    engine = live_server.engine
    cell = user(engine, "secretary").organisation_id
    with engine.session() as session:
        case_id = session.exec(
            select(Case.id)
            .where(Case.cell_id == cell, Case.state == "in_class")
            .order_by(col(Case.id))
        ).first()
    assert case_id is not None
    log_in(page, live_server, "secretary")
    page.goto(f"{live_server.url}/cases/{case_id}")
    expect(page.locator("form.event-form")).to_have_count(1)  # the next step's only
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/events/" in r.url else None)
    page.locator("#other-actions > summary").click()
    step = page.locator("#event-correct_particulars")
    # closed, the step holds only the link that opens its form without JavaScript
    expect(step.locator(".form-later a")).to_have_attribute(
        "href", f"/cases/{case_id}?step=correct_particulars#event-correct_particulars"
    )
    step.locator("summary").click()
    village = step.locator('[name="f.person.village"]')
    expect(village).to_be_visible()
    assert fetched == [f"{live_server.url}/cases/{case_id}/events/correct_particulars"]
    expect(step.locator(".form-later")).to_have_count(0)
    village.fill("Thôn Đông Hạ")
    step.locator('[name="f.reason"]').fill("Sai tên thôn")
    dialogs: list[str] = []

    def decline(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    button = step.locator("button[type=submit]")
    button.click()
    expect(button).to_be_enabled()
    assert dialogs and "Ghi nhận" in dialogs[0]
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(page.locator(".flash-success")).to_contain_text("Sửa thông tin người vào Đảng")
    expect(page.locator("#timeline")).to_contain_text("Thôn Đông Hạ")


def test_a_receiving_cell_is_found_by_name_in_a_fetched_transfer_form(
    page: Page, live_server: LiveServer
) -> None:
    """The transfer's form (fetched when opened) finds the receiving cell by name: "to
    dan pho" suggests "Chi bộ Tổ dân phố 3" with the organisation above it."""
    engine = live_server.engine
    cell = user(engine, "secretary").organisation_id
    with engine.session() as session:
        case_id = session.exec(
            select(Case.id)
            .where(Case.cell_id == cell, Case.state == "verified")
            .order_by(col(Case.id).desc())
        ).first()
    assert case_id is not None
    log_in(page, live_server, "secretary")
    page.goto(f"{live_server.url}/cases/{case_id}")
    page.locator("#other-actions > summary").click()
    step = page.locator("#event-transfer")
    step.locator("summary").click()
    name = step.locator('[name="f.to_cell_id.label"]')
    expect(name).to_be_visible()
    expect(step.locator("select")).to_have_count(0)
    name.press_sequentially("to dan pho", delay=30)
    suggestion = step.locator(".member-suggestions li").first
    expect(suggestion).to_contain_text("Chi bộ Tổ dân phố 3")
    expect(suggestion).to_contain_text("Đảng ủy thị trấn Bằng Lũng")
    suggestion.dispatch_event("mousedown")
    expect(name).to_have_value("Chi bộ Tổ dân phố 3 (Đảng ủy thị trấn Bằng Lũng)")
    assert step.locator('[name="f.to_cell_id"]').input_value().isdigit()
    page.once("dialog", lambda dialog: dialog.accept())
    step.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Chuyển sinh hoạt sang chi bộ khác")
    # the case left the secretary's cell (and sight) for the cell picked
    with engine.session() as session:
        moved = session.get(Case, case_id)
        target = session.exec(
            select(Organisation.id).where(Organisation.name == "Chi bộ Tổ dân phố 3")
        ).one()
    assert moved is not None and moved.cell_id == target
