"""Forms that forgive, in real Chromium at phone size (390×844): every problem of a
submit at once with a focused summary that links to each field, members picked by
name from suggestions, and a double tap on a slow network recorded once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from tests.browser.conftest import LiveServer, screenshot
from tests.browser.test_secretary_and_auditor import log_in
from tests.web.support import case_in_state, fresh_case, members_of, user
from workflow.models import HistoryEvent
from workflow.text import fold

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def secretary_cell(server: LiveServer) -> int:
    cell = user(server.engine, "secretary").organisation_id
    assert cell is not None
    return cell


def focused(page: Page) -> str:
    """The focused element, as 'tag#id.class…' (enough to tell which one it is)."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement; "
            "return e.tagName.toLowerCase() + '#' + e.id + '.' + e.className; }"
        )
    )


def test_an_empty_nomination_shows_every_problem_at_once_on_a_phone(
    page: Page, live_server: LiveServer
) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "secretary")
    page.goto(f"{live_server.url}/cases/new")
    page.locator('[name="f.person.full_name"]').fill("Trần Văn Bình")
    page.get_by_role("button", name="Lập hồ sơ").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.locator("li")).to_have_count(5)  # birth date, gender, occupation, by, date
    expect(summary).to_contain_text("Chưa ghi được: cần sửa 5 chỗ")
    expect(page.locator('[data-path="person.gender"] .field-error')).to_contain_text("Thiếu")
    expect(page.locator('[name="f.person.full_name"]')).to_have_value("Trần Văn Bình")
    screenshot(page, "forms-01-every-error-phone", full_page=False)
    summary.get_by_role("link", name="Giới tính").click()
    expect(page.locator('[name="f.person.gender"]')).to_be_focused()


def test_two_bad_sponsors_picked_by_name_are_named_on_their_rows(
    page: Page, live_server: LiveServer
) -> None:
    engine = live_server.engine
    cell = secretary_cell(live_server)
    case = fresh_case(engine, live_server.world, cell, "class_passed")
    first, second = members_of(engine, cell, "probationary")[:2]
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "secretary")
    page.goto(f"{live_server.url}/cases/{case.id}#event-assign_sponsors")
    form = page.locator("#event-assign_sponsors")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    for row, member in enumerate((first, second)):
        box = form.locator(f'[name="f.sponsors.{row}.member_id.label"]')
        box.press_sequentially(fold(member.full_name)[:-2], delay=20)  # no diacritics, part
        option = form.get_by_role("option", name=member.full_name)
        expect(option).to_be_visible()
        option.click()
        expect(box).to_have_value(member.full_name)
        hidden = form.locator(f'[name="f.sponsors.{row}.member_id"]')
        expect(hidden).to_have_value(str(member.id))
        form.locator(f'[name="f.sponsors.{row}.alongside_since"]').fill("01/01/2020")
    form.locator("button[type=submit]").click()
    summary = page.locator("#event-assign_sponsors .error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("li")).to_have_count(2)
    for row, member in enumerate((first, second)):
        error = page.locator(f'[data-path="sponsors.{row}.member_id"] .field-error')
        expect(error).to_contain_text(member.full_name)
        expect(error).to_contain_text("không phải đảng viên chính thức")
    screenshot(page, "forms-02-two-sponsors-phone", full_page=False)
    summary.get_by_role("link").nth(1).click()
    assert focused(page).startswith("input#w-f-sponsors-1-member_id")


def test_a_double_tap_on_a_slow_network_records_the_step_once(
    page: Page, live_server: LiveServer
) -> None:
    engine = live_server.engine
    case = case_in_state(engine, "nominated", secretary_cell(live_server))
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "secretary")
    page.goto(f"{live_server.url}/cases/{case.id}#event-enrol_in_class")
    form = page.locator("#event-enrol_in_class")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.locator('[name="f.class_name"]').fill("Lớp nhận thức 4/2026")
    form.locator('[name="f.issuer"]').fill("Trung tâm Chính trị huyện")
    slow = page.context.new_cdp_session(page)
    slow.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    # two taps in a row, as a thumb does: what the button says between them
    between = form.locator("button[type=submit]").evaluate(
        """b => { let sent = 0;
                  b.form.addEventListener('submit', e => { if (!e.defaultPrevented) sent++; });
                  b.click();
                  const state = {disabled: b.disabled, text: b.textContent.trim()};
                  b.form.requestSubmit(b);
                  return {...state, sent}; }"""
    )
    assert between == {"disabled": True, "text": "Đang ghi…", "sent": 1}
    expect(page.locator(".flash-success")).to_contain_text("Cử đi học lớp nhận thức về Đảng")
    expect(page.locator(".flash-success")).to_be_in_viewport()  # the result is in view
    slow.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    with engine.session() as session:
        rows = session.exec(select(HistoryEvent.event).where(HistoryEvent.case_id == case.id))
        assert list(rows).count("enrol_in_class") == 1
