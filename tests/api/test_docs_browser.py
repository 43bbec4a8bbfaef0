"""/api/docs in real Chromium: Swagger UI renders the document under the app's CSP,
with no request leaving the server and no script or policy error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from tests.api.support import DemoTemplate, copy_engine, make_app
from tests.support.browser import launch_chromium

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def server_url(demo_template: DemoTemplate, tmp_path: Path) -> Iterator[str]:
    app = make_app(copy_engine(demo_template, tmp_path), TESTING=False, RATELIMIT_ENABLED=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_api_docs_page_renders_every_operation_offline(server_url: str) -> None:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(f"script: {error}"))
            page.on(
                "console",
                lambda message: (
                    problems.append(f"console: {message.text}") if message.type == "error" else None
                ),
            )
            page.on(
                "request",
                lambda request: (
                    problems.append(f"left the server: {request.url}")
                    if not request.url.startswith(server_url)
                    and not request.url.startswith("data:")
                    else None
                ),
            )
            page.goto(f"{server_url}/api/docs")
            expect(
                page.locator(".opblock-summary-path", has_text="/api/v1/cases/{case_id}/events")
            ).to_be_visible()
            expect(page.locator(".opblock").first).to_be_visible()
            assert page.locator(".opblock").count() >= 15
            expect(page.get_by_text("Ketnap API").first).to_be_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=False)
            assert problems == []
        finally:
            browser.close()
