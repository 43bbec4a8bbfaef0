"""The rules page shows every set of rule parameters: each parameter by its label in the
reader's language, with its unit, its value and its source; the set in force today
marked; no parameter's code name on the page."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.web.support import login, make_app, text_of
from workflow import config, rules
from workflow.engine import Engine

LATER = """
[rules]
effective_from = 2025-07-01

[[rules.later]]
effective_from = 2026-01-01
text_vi = "Quy định 999-QĐ/TW (giả định)"
text_en = "Regulation 999-QĐ/TW (fictional)"
sponsor_shared_months = 9
"""


def test_the_rules_page_speaks_vietnamese_with_units_and_sources(app: Flask) -> None:
    page = login(app, "secretary").get("/rules")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = text_of(html)
    assert "Quy định 294-QĐ/TW" in shown and "Hiệu lực từ 01/07/2025" in shown
    assert "Đang có hiệu lực" in shown
    assert "Thời gian dự bị 12 tháng Điều lệ Đảng, Điều 5.1" in shown
    assert "Thời hạn tổ chức lễ kết nạp kể từ khi chi bộ nhận quyết định 30 ngày làm việc" in shown
    for name in rules.PARAMETERS:
        assert name not in html, name  # no code name on a Vietnamese page


def test_each_set_is_shown_and_the_one_in_force_is_marked(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(LATER, encoding="utf-8")
    engine.params = config.load(path, environ={}).rules  # today (16/03/2026): the later set
    shown = text_of(login(make_app(engine), "auditor").get("/rules").get_data(as_text=True))
    later = shown.index("Quy định 999-QĐ/TW (giả định)")
    shipped = shown.index("Quy định 294-QĐ/TW")
    assert later < shipped  # the newest first
    assert shown.index("Đang có hiệu lực") < shipped  # marks the later set
    assert "Hiệu lực từ 01/07/2025 đến 31/12/2025" in shown
    assert "9 tháng" in shown[later:shipped] and "12 tháng" in shown[shipped:]


def test_the_english_page_speaks_english(app: Flask) -> None:
    client = login(app, "admin")
    client.post("/locale", data={"locale": "en"})
    shown = text_of(client.get("/rules").get_data(as_text=True))
    assert "Regulation 294-QĐ/TW" in shown and "Probation 12 months" in shown
    admin = text_of(client.get("/admin/").get_data(as_text=True))
    assert "Regulation 294-QĐ/TW, from 01/07/2025" in admin
