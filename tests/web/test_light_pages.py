"""Light pages: the process drawn on the server from the process table (the case's
stepper, /process's diagram), static files by content hash, gzip and cached for ever,
a phone's menu, readable charts, dates in the order they fell, people by name."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Flask

from tests.web.support import case_in_state, login, text_of, user
from web import assets, charts, diagram
from web.cases import CASE_DATES, milestones
from workflow import process
from workflow.engine import Engine
from workflow.models import HistoryEvent

HASHED = re.compile(r"/static/([\w/.-]+)\.([0-9a-f]{12})\.(\w+)")


# ── the main path and the stepper ────────────────────────────────────────
def test_the_main_path_runs_through_the_process_table_from_nomination_to_its_end() -> None:
    path = diagram.main_path()
    state = process.NOMINATE.target
    for step in path:
        assert state in step.sources and step.target not in (None, state)
        state = step.target
    assert state is not None and process.state(state).terminal
    assert set(process.OPEN_STATES) <= set(diagram.path_states())
    assert len(path) == len(diagram.path_states()) - 1


def test_the_stepper_counts_the_steps_behind_the_case() -> None:
    states = diagram.path_states()
    total = len(diagram.main_path())
    first = diagram.progress(states[0])
    assert (first.done, first.current and first.current.number) == (0, 1)
    middle = diagram.progress(states[6])
    assert middle.done == 6 and middle.current is not None and middle.current.number == 7
    assert [s.status for s in middle.steps[:7]] == ["done"] * 6 + ["current"]
    last = diagram.progress(states[-1])
    assert last.finished and last.current is None and last.done == total


def test_a_closed_case_stops_where_its_history_left_the_path() -> None:
    states = diagram.path_states()
    row = HistoryEvent(
        case_id=1,
        seq=6,
        event="reject",
        from_state=states[5],
        to_state="rejected",
        on=date(2026, 1, 1),
        recorded_at=datetime(2026, 1, 1),
        actor="secretary",
        data="{}",
        prev_hash="",
        hash="",
    )
    closed = diagram.progress("rejected", [row])
    assert closed.closed == "rejected" and closed.done == 5
    assert closed.current is not None and closed.current.status == "stopped"
    assert closed.current.number == 6


def test_the_case_page_shows_the_step_it_waits_for_without_any_diagram_script(
    shared_app: Flask,
) -> None:
    engine: Engine = shared_app.extensions["ketnap.engine"]
    case = case_in_state(engine, "cell_resolved")
    client = login(shared_app, "auditor")
    response = client.get(f"/cases/{case.id}")
    html = response.get_data(as_text=True)
    number = diagram.path_states().index("cell_resolved") + 1
    total = len(diagram.main_path())
    assert f"Bước {number}/{total}" in text_of(html)
    waited = diagram.main_path()[number - 1]
    assert f"Bước tiếp theo: {waited.label_vi}" in text_of(html)
    assert "mermaid" not in html and "diagram.js" not in html
    assert re.search(r"\sstyle=", html) is None
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert all(re.search(r"/js/(ketnap|forms)\.", s) for s in scripts), scripts
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_the_case_page_names_people_and_keeps_codes_behind_details(shared_app: Flask) -> None:
    engine: Engine = shared_app.extensions["ketnap.engine"]
    case = case_in_state(engine, "verified", user(engine, "secretary").organisation_id)
    html = login(shared_app, "secretary").get(f"/cases/{case.id}").get_data(as_text=True)
    outside = re.sub(r"<details class=\"more[^>]*>.*?</details>", "", html, flags=re.S)
    main = text_of(outside.split('<main id="main"', 1)[1])
    assert user(engine, "secretary").full_name in main
    assert not re.search(r"\bsecretary\b", main), "a username outside 'chi tiết'"
    assert "phiên bản" not in main
    details = text_of(" ".join(re.findall(r'<details class="more.*?</details>', html, re.S)))
    assert "chi tiết" in details and "phiên bản" in details and "secretary" in details


def test_milestones_are_in_the_order_they_fell(shared_app: Flask) -> None:
    case = SimpleNamespace(**{name: None for name, _ in CASE_DATES})
    case.nominated_on = date(2025, 1, 10)
    case.class_started_on = date(2025, 3, 1)
    case.certificate_on = date(2025, 2, 20)  # an imported history: out of the usual order
    page: Any = SimpleNamespace(case=case)
    with shared_app.test_request_context():
        got = milestones(page)
    assert [d for _, d in got] == [date(2025, 1, 10), date(2025, 2, 20), date(2025, 3, 1)]


def test_the_timeline_lists_acts_by_their_date(shared_app: Flask) -> None:
    engine: Engine = shared_app.extensions["ketnap.engine"]
    case = case_in_state(engine, "probationary")
    html = login(shared_app, "auditor").get(f"/cases/{case.id}").get_data(as_text=True)
    timeline = html.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    shown = [
        date(int(y), int(m), int(d))
        for d, m, y in re.findall(r'class="when">(\d\d)/(\d\d)/(\d{4})', timeline)
    ]
    assert len(shown) > 3 and shown == sorted(shown, reverse=True)  # newest first


# ── /process ─────────────────────────────────────────────────────────────
def test_the_process_page_draws_every_step_and_end_and_highlights_a_state(
    shared_app: Flask,
) -> None:
    client = login(shared_app, "sponsor")
    response = client.get("/process?state=committee_resolved")
    html = response.get_data(as_text=True)
    svg = html.split('<svg class="process-diagram"', 1)[1].split("</svg>", 1)[0]
    text = text_of(svg)
    for step in diagram.main_path():
        assert step.label_vi.split()[0] in text
    for state in process.STATES:
        if any(e.target == state.name for e in process.EVENTS):
            assert state.label_vi in text or state.label_vi.split()[0] in text, state.name
    current = re.findall(
        r'class="pd-box pd-current[^"]*">\s*<rect[^>]*>\s*<text[^>]*>(.*?)</text>', svg, re.S
    )
    assert len(current) == 1 and "Đảng ủy cơ sở" in text_of(current[0])
    assert re.search(r"\sstyle=", html) is None
    assert "pd-current" not in client.get("/process?state=nothing").get_data(as_text=True)
    listing = html.split('class="diagram-list"', 1)[1].split("</details>", 1)[0]
    for event in process.EVENTS[1:]:
        assert event.label_vi in text_of(listing), event.name


# ── static files ─────────────────────────────────────────────────────────
def test_pages_name_static_files_by_content_hash_served_gzip_and_immutable(
    shared_app: Flask,
) -> None:
    client = login(shared_app, "secretary")
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert urls and all(HASHED.fullmatch(u) for u in urls), urls
    css = next(u for u in urls if u.endswith(".css"))
    answer = client.get(css, headers={"Accept-Encoding": "gzip, br"})
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    cache = answer.headers["Cache-Control"]
    assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache).group(1)) >= 31536000  # type: ignore[union-attr]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    answer.close()
    plain = client.get("/static/css/ketnap.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers["Cache-Control"]
    assert plain.headers.get("Content-Encoding") is None  # asked without Accept-Encoding
    fonts = re.findall(r'url\("\.\./(fonts/[^"]+)"\)', plain.get_data(as_text=True))
    plain.close()
    assert fonts and all(HASHED.fullmatch(f"/static/{f}") for f in fonts)
    for font in fonts:
        loaded = client.get(f"/static/{font}")
        assert loaded.status_code == 200 and "immutable" in loaded.headers["Cache-Control"]
        loaded.close()


def test_a_hashed_name_changes_with_the_content(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "a.woff2").write_bytes(b"font one")
    (tmp_path / "css" / "site.css").write_text('@font-face { src: url("../fonts/a.woff2"); }')
    first = assets.compile_static(tmp_path, tmp_path / "out1")
    (tmp_path / "fonts" / "a.woff2").write_bytes(b"font two")
    second = assets.compile_static(tmp_path, tmp_path / "out2")
    assert first["fonts/a.woff2"] != second["fonts/a.woff2"]
    assert first["css/site.css"] != second["css/site.css"]  # it names the font
    rewritten = (tmp_path / "out2" / second["css/site.css"]).read_text()
    assert second["fonts/a.woff2"].split("/")[1] in rewritten


# ── a phone ──────────────────────────────────────────────────────────────
def test_the_main_menu_folds_behind_a_button_that_needs_no_script(shared_app: Flask) -> None:
    html = login(shared_app, "officer").get("/cases").get_data(as_text=True)
    menu = re.search(
        r'<details class="nav-menu">\s*<summary[^>]*>(.*?)</summary>\s*<nav', html, re.S
    )
    assert menu is not None and text_of(menu.group(1)) == "Danh mục"
    assert 'aria-current="page"' in html.split('class="main-nav"', 1)[1]


def test_month_labels_never_touch_whatever_the_period() -> None:
    for months in range(1, 97):
        slot = (480 - 44 - 12) / months
        ticks = charts.month_ticks(months, slot)
        apart = slot * ticks.every
        if ticks.turned:  # the gap across the turned labels: more than a line of text
            assert apart * math.sin(math.radians(charts.MONTH_TURN)) > charts.MONTH_FONT * 1.3
        else:
            assert apart >= 7 * 0.6 * charts.MONTH_FONT, months


def test_a_monthly_chart_of_three_years_thins_and_turns_its_labels() -> None:
    months = [
        {"label": f"{m % 12 + 1:02d}/{2024 + m // 12}", "admitted": 1, "admitted_cumulative": m}
        for m in range(36)
    ]
    svg = str(charts.monthly_chart("t", months, "admitted", [], "k").svg)
    labels = re.findall(r'<text class="month"[^>]*>([^<]+)</text>', svg)
    assert 6 <= len(labels) < 36 and labels[0] == "01/2024"
    assert "rotate(-45" in svg and "style=" not in svg
