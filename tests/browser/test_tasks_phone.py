"""Each role's day from the task list, in real Chromium at phone size (390×844, touch):
the secretary records a step with one tap on the task and one submit; the helper's
comment task disappears once recorded; two officers of one committee see a decision
task and one takes it — the other sees who did. In Vietnamese."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import col, select
from werkzeug.security import generate_password_hash

from tests.browser.conftest import LiveServer, screenshot
from tests.browser.test_secretary_and_auditor import log_in
from tests.web.support import user
from workflow.models import Case, HelperAssignment, User
from workflow.ops.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def phone_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True, is_mobile=True)
    context.set_default_timeout(60_000)
    return context


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = phone_context(browser)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


def open_tasks(page: Page) -> None:
    """Through the menu, folded behind its button at phone size."""
    page.get_by_text("Danh mục", exact=True).tap()
    page.get_by_role("link", name="Việc cần làm", exact=True).first.tap()
    expect(page.get_by_role("heading", name="Việc cần làm", level=1)).to_be_visible()


def test_the_secretary_records_a_step_with_one_tap_and_one_submit(
    phone: Page, live_server: LiveServer
) -> None:
    engine = live_server.engine
    cell = user(engine, "secretary").organisation_id
    with engine.session() as session:
        case = session.exec(
            select(Case)
            .where(
                Case.cell_id == cell,
                Case.state == "probationary",
                col(Case.self_review_on).is_(None),
            )
            .order_by(col(Case.id))
        ).first()
    assert case is not None, "the demo has no self-review to record"
    log_in(phone, live_server, "secretary")
    open_tasks(phone)
    card = phone.locator(f"#task-{case.id}-record_self_review")
    expect(card).to_be_visible()
    screenshot(phone, "tasks-secretary-phone", full_page=False)

    card.locator("a.task-open").tap()  # one tap on the task …
    expect(phone).to_have_url(re.compile(rf"/cases/{case.id}\?step=record_self_review"))
    form = phone.locator("#event-record_self_review")
    expect(form).to_have_attribute("open", "")
    expect(form.locator("button[type=submit]")).to_be_in_viewport()
    screenshot(phone, "case-step-phone", full_page=False)
    form.locator("button[type=submit]").tap()  # … and one submit
    expect(phone.locator(".flash-success")).to_contain_text("Đã ghi nhận")

    open_tasks(phone)
    expect(phone.locator(f"#task-{case.id}-record_self_review")).to_have_count(0)


def test_the_helper_s_comment_task_disappears_once_recorded(
    phone: Page, live_server: LiveServer
) -> None:
    engine = live_server.engine
    helper = user(engine, "sponsor")
    with engine.session() as session:
        case = session.exec(
            select(Case)
            .join(HelperAssignment, col(HelperAssignment.case_id) == Case.id)
            .where(
                HelperAssignment.member_id == helper.member_id,
                Case.state == "probationary",
                col(Case.helper_comment_on).is_(None),
            )
        ).first()
    assert case is not None, "the demo helper has no comment to write"
    log_in(phone, live_server, "sponsor")
    open_tasks(phone)
    card = phone.locator(f"#task-{case.id}-record_helper_comment")
    expect(card).to_be_visible()
    expect(phone.locator("#my-tasks")).not_to_contain_text("Bản tự kiểm điểm")  # not theirs

    card.locator("a.task-open").tap()
    form = phone.locator("#event-record_helper_comment")
    expect(form).to_have_attribute("open", "")
    form.locator('[name="f.comment"]').fill("Gương mẫu, tích cực trong công tác thôn.")
    form.locator("button[type=submit]").tap()
    expect(phone.locator(".flash-success")).to_contain_text("Đã ghi nhận")

    open_tasks(phone)
    expect(phone.locator(f"#task-{case.id}-record_helper_comment")).to_have_count(0)


def test_two_officers_see_a_decision_and_one_takes_it(
    browser: Browser, live_server: LiveServer
) -> None:
    engine = live_server.engine
    officer = user(engine, "officer")
    with engine.session() as session:
        session.add(
            User(
                username="officer-2",
                role="officer",
                organisation_id=officer.organisation_id,
                full_name="Phạm Văn Hòa (Ban Tổ chức Đảng ủy)",
                password_hash=generate_password_hash(DEMO_PASSWORD),
            )
        )
        session.commit()
        case = session.exec(
            select(Case).where(Case.state == "committee_resolved").order_by(col(Case.id))
        ).first()
    assert case is not None
    anchor = f"#task-{case.id}-decide_admission"
    first_context, second_context = phone_context(browser), phone_context(browser)
    try:
        first, second = first_context.new_page(), second_context.new_page()
        for page, username in ((first, "officer"), (second, "officer-2")):
            log_in(page, live_server, username)
            open_tasks(page)
            expect(page.locator(anchor)).to_contain_text("chưa có ai")

        first.locator(anchor).get_by_role("button", name="Nhận việc này").tap()
        expect(first.locator(anchor)).to_contain_text("(đồng chí)")
        expect(first.locator(anchor).get_by_role("button", name="Trả lại việc")).to_be_visible()

        second.reload()
        expect(second.locator(anchor)).to_contain_text("Trần Thị Mai")
        expect(
            second.locator(anchor).get_by_role("button", name="Nhận lại việc này")
        ).to_be_visible()
        screenshot(second, "tasks-officer-claimed-phone", full_page=False)
    finally:
        first_context.close()
        second_context.close()
