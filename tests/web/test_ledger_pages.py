"""The auditor's ledger page and the history API name what an insider changed, verify
the signed checkpoints with the configured key and export them."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

from tests.history.tamper import tamper
from tests.web.support import login, text_of
from web.app import create_app
from workflow.config import Config, HistorySettings
from workflow.engine import Engine
from workflow.history import signing


def signed_app(engine: Engine, key: Path) -> Flask:
    config = Config(history=HistorySettings(signing_key_file=str(key)))
    settings = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    return create_app(engine, config, TESTING=True, SECRET_KEY="test-secret", **settings)


def test_the_ledger_page_says_intact_and_that_nothing_is_signed(app: Flask) -> None:
    client = login(app, "auditor")
    page = text_of(client.get("/audit/ledger").get_data(as_text=True))
    assert "Lịch sử và sổ cái toàn vẹn" in page
    assert "chưa cấu hình khóa ký" in page  # the note in the reader's language


def test_an_edited_cell_and_a_deleted_row_are_named_on_page_and_api(
    app: Flask, engine: Engine
) -> None:
    tamper(engine.database, 'UPDATE "case" SET cell_id = cell_id + 1 WHERE id = 1')
    client = login(app, "auditor")
    page = text_of(client.get("/audit/ledger").get_data(as_text=True))
    assert "case 1: row" in page and "case cell edited" in page
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
    page = text_of(client.get("/audit/ledger").get_data(as_text=True))
    assert "signature does not verify" in page
