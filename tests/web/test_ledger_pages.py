"""The auditor's ledger page and the history API name what an insider changed, verify
the signed checkpoints with the configured key and export them. The page shows the last
integrity check kept (never recomputing on a view); the auditor asks for a new one, the
scheduler's runner (`integrity.tick`, called here) runs it while the page polls."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.history.tamper import tamper
from tests.web.support import login, text_of
from web.app import create_app
from workflow.config import Config, HistorySettings
from workflow.engine import Engine
from workflow.history import signing
from workflow.ops import integrity


def signed_app(engine: Engine, key: Path) -> Flask:
    config = Config(history=HistorySettings(signing_key_file=str(key)))
    settings = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    return create_app(engine, config, TESTING=True, SECRET_KEY="test-secret", **settings)


def run_check(client: FlaskClient, engine: Engine, key: Path | None = None) -> str:
    """Ask for a check on the page, run it as the scheduler would, read the page."""
    assert client.post("/audit/integrity").status_code == 302
    public = signing.configured_public(HistorySettings(signing_key_file=str(key or "")))
    assert integrity.tick(engine, public) == 1
    return text_of(client.get("/audit/ledger").get_data(as_text=True))


def test_the_ledger_page_runs_a_check_in_the_background_and_keeps_it(
    app: Flask, engine: Engine
) -> None:
    client = login(app, "auditor")
    page = text_of(client.get("/audit/ledger").get_data(as_text=True))
    assert "Chưa có lần kiểm tra nào" in page and "Kiểm tra toàn bộ cơ sở dữ liệu" in page

    assert client.post("/audit/integrity").status_code == 302
    html = client.get("/audit/ledger").get_data(as_text=True)
    assert 'data-progress-url="/audit/integrity/' in html and "/static/js/progress." in html
    check_id = int(html.split('data-progress-url="/audit/integrity/')[1].split(".json")[0])
    polled = client.get(f"/audit/integrity/{check_id}.json").get_json()
    assert polled["state"] == "queued" and polled["done"] == 0
    assert "Đang chờ đến lượt" in text_of(html)

    assert integrity.tick(engine, None) == 1
    polled = client.get(f"/audit/integrity/{check_id}.json").get_json()
    assert polled["state"] == "done" and polled["done"] == polled["total"] > 0
    assert polled["percent"] == 100 and polled["intact"] is True
    page = text_of(client.get("/audit/ledger").get_data(as_text=True))
    assert "Lịch sử và sổ cái toàn vẹn" in page
    assert "chưa cấu hình khóa ký" in page  # the note in the reader's language
    assert "Lần kiểm tra gần nhất: 16/03/2026" in page and "do auditor yêu cầu" in page
    tamper(engine.database, "UPDATE historyevent SET note = 'sửa' WHERE case_id = 1 AND seq = 1")
    page = text_of(client.get("/audit/ledger").get_data(as_text=True))
    assert "Lịch sử và sổ cái toàn vẹn" in page  # the kept result: nothing recomputed


def test_an_edited_cell_and_a_deleted_row_are_named_on_page_and_api(
    app: Flask, engine: Engine
) -> None:
    tamper(engine.database, 'UPDATE "case" SET cell_id = cell_id + 1 WHERE id = 1')
    client = login(app, "auditor")
    page = run_check(client, engine)
    assert "Hồ sơ 1" in page and "case cell edited" in page
    case_page = text_of(client.get("/audit/cases/1").get_data(as_text=True))
    assert "case cell edited" in case_page
    answer = client.get("/api/v1/history/verify").get_json()
    assert answer["intact"] is False
    assert any("case cell edited" in line for line in answer["problems"])


def test_checkpoints_verify_and_export_with_the_configured_key(
    engine: Engine, tmp_path: Path
) -> None:
    key = tmp_path / "ledger.key"
    signing.keygen(key)
    with engine.session() as session:
        signing.sign(session, signing.load_private(key), engine.clock.now())
        session.commit()
    client = login(signed_app(engine, key), "auditor")
    answer = client.get("/api/v1/history/verify").get_json()
    assert answer["intact"] is True and answer["checkpoints_checked"] == 1, answer
    exported = client.get("/audit/ledger/checkpoints.json")
    document = json.loads(exported.get_data(as_text=True))
    assert document == client.get("/api/v1/history/checkpoints").get_json()
    assert len(document["checkpoints"]) == 1 and "PUBLIC KEY" in document["public_key"]

    tamper(engine.database, "UPDATE checkpoint SET ledger_hash = 'f' || substr(ledger_hash, 2)")
    assert "signature does not verify" not in client.get("/audit/ledger").get_data(as_text=True)
    assert "signature does not verify" in run_check(client, engine, key)
