"""The auditor's whole-database check in real Chromium: asked for with one button, its
progress shown by the page's script (CSP script-src 'self': the script takes over from
the meta refresh), and the kept result shown once the scheduler's runner has run it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, screenshot
from tests.browser.test_secretary_and_auditor import log_in
from workflow.ops import integrity

pytestmark = pytest.mark.browser


def test_an_auditor_checks_the_whole_database_and_sees_the_result_kept(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "auditor")
    page.goto(f"{live_server.url}/audit/ledger")
    expect(page.locator("#integrity-last")).to_contain_text("Chưa có lần kiểm tra nào")
    page.get_by_role("button", name="Kiểm tra toàn bộ cơ sở dữ liệu").click()

    progress = page.locator("#integrity-progress")
    expect(progress).to_contain_text("Đang chờ đến lượt")
    # the script runs (script-src 'self') and replaces the page's meta refresh
    expect(page.locator("meta[http-equiv='refresh']")).to_have_count(0)
    screenshot(page, "20-integrity-queued")

    assert integrity.tick(live_server.engine, None) == 1  # the scheduler's runner
    result = page.locator("#ledger-integrity")  # the polling script reloads the page
    expect(result).to_have_attribute("data-intact", "true")
    expect(result).to_contain_text("Lịch sử và sổ cái toàn vẹn")
    expect(page.locator("#integrity-last")).to_contain_text("do auditor yêu cầu")
    expect(page.locator("#integrity-progress")).to_have_count(0)
    screenshot(page, "21-integrity-kept")

    page.goto(f"{live_server.url}/rules")
    expect(page.locator("#in-force")).to_contain_text("Đang có hiệu lực")
    expect(page.locator("#in-force")).to_contain_text("Thời gian dự bị")
