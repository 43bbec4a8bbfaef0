"""At phone size (390×844) in real Chromium: the menu folds behind its button, the case
page and /process fit the width with the process drawn on the server, the monthly
chart's month labels do not overlap, and the case page's transfer stays light."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from tests.browser.conftest import LiveServer, screenshot
from workflow.models import Case

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True)
    context.set_default_timeout(60_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


def log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("ketnap-demo")
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Xin chào")


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_menu_folds_behind_its_button_on_a_phone(phone: Page, live_server: LiveServer) -> None:
    log_in(phone, live_server, "officer")
    reports = phone.locator(".main-nav").get_by_role("link", name="Báo cáo")
    expect(reports).to_be_hidden()
    button = phone.get_by_text("Danh mục", exact=True)
    expect(button).to_be_visible()
    button.click()
    expect(reports).to_be_visible()
    reports.click()
    expect(phone).to_have_url(f"{live_server.url}/reports")
    expect(phone.locator(".main-nav").get_by_role("link", name="Báo cáo")).to_be_hidden()


def test_the_case_page_fits_a_phone_and_weighs_little(phone: Page, live_server: LiveServer) -> None:
    with live_server.engine.session() as session:
        case = session.exec(select(Case).where(Case.state == "cell_resolved")).first()
    assert case is not None
    log_in(phone, live_server, "auditor")
    sizes: dict[str, int] = {}
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls: dict[str, str] = {}
    cdp.on(
        "Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(
            urls.get(e["requestId"], e["requestId"]), e["encodedDataLength"]
        ),
    )
    phone.goto(f"{live_server.url}/cases/{case.id}", wait_until="networkidle")
    expect(phone.locator(".stepper h2")).to_have_text("Bước 7/12")
    expect(phone.locator(".stepper-bar")).to_be_visible()
    assert fits_the_width(phone)
    screenshot(phone, "phone-case", full_page=False)
    assert sum(sizes.values()) < 150 * 1024, sizes
    scripts = [u for u in sizes if u.endswith(".js")]
    assert scripts and all(sizes[u] < 50 * 1024 for u in scripts)


def test_the_process_is_drawn_on_the_server_and_fits_a_phone(
    phone: Page, live_server: LiveServer
) -> None:
    log_in(phone, live_server, "sponsor")
    phone.goto(f"{live_server.url}/process?state=verified")
    diagram = phone.locator("svg.process-diagram")
    expect(diagram).to_be_visible()
    expect(diagram.locator(".pd-current")).to_contain_text("Đã thẩm tra lý lịch")
    box: Any = diagram.bounding_box()
    assert box["width"] <= PHONE["width"] and fits_the_width(phone)
    sources = phone.evaluate("[...document.scripts].map(s => s.src)")
    assert all(re.search(r"/static/js/(ketnap|forms)\.", s) for s in sources), sources
    screenshot(phone, "phone-process", full_page=False)


def test_month_labels_do_not_overlap_on_a_phone(phone: Page, live_server: LiveServer) -> None:
    log_in(phone, live_server, "officer")
    phone.goto(f"{live_server.url}/reports/admissions?org=2&from=2023-01-01&to=2026-03-16")
    labels = phone.locator("svg.chart-monthly text.month")
    expect(labels.first).to_be_visible()
    found = labels.evaluate_all(
        """els => els.map(e => {
            const r = e.getBoundingClientRect(), svg = e.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return {left: r.left, right: r.right, turned: e.hasAttribute("transform"),
                    height: parseFloat(e.getAttribute("font-size")) * scale};
        })"""
    )
    assert len(found) >= 6
    for a, b in itertools.pairwise(found):
        if a["turned"]:  # two 45° lines of text: their distance across must exceed a line
            assert (b["left"] - a["left"]) * math.sin(math.radians(45)) > a["height"], (a, b)
        else:
            assert b["left"] > a["right"], (a, b)
    assert fits_the_width(phone)


def test_the_forecast_chart_reads_on_a_phone(phone: Page, live_server: LiveServer) -> None:
    """The forecast's chart (web/charts.forecast_chart) within the screen's width, its
    smallest text at least 10 px."""
    log_in(phone, live_server, "officer")
    phone.goto(f"{live_server.url}/reports/forecast?org=2")
    chart = phone.locator("svg.chart-forecast")
    expect(chart).to_be_visible()
    box: Any = chart.bounding_box()
    assert box["width"] <= PHONE["width"] and fits_the_width(phone)
    smallest = chart.evaluate(
        """svg => {
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return Math.min(...[...svg.querySelectorAll("text")].map(
                t => parseFloat(t.getAttribute("font-size")) * scale));
        }"""
    )
    assert smallest >= 10, smallest
