"""The documents pages: forms to download from a case, the import with its progress and
report, the exports — each scoped to who is asking."""

from __future__ import annotations

import csv
import io
import re
import time
from html import unescape
from pathlib import Path
from typing import Any

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.documents.conftest import Docs, write_csv
from web.app import create_app
from web.documents import import_settings
from workflow.config import Config
from workflow.exchange import jobs
from workflow.ops.demo import DEMO_PASSWORD


@pytest.fixture
def app(docs: Docs, tmp_path: Path) -> Flask:
    return create_app(
        docs.engine,
        Config(),
        TESTING=True,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
        SECRET_KEY="test-secret",
        KETNAP_IMPORTS={"dir": str(tmp_path / "jobs")},
    )


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 302, username
    return client


def wait_for(client: FlaskClient, job_url: str) -> dict[str, Any]:
    """Let the scheduler's runner take the queued job (as its `ketnap-imports` job does
    every few seconds), then poll its progress as the page's script does, until it ends."""
    app = client.application
    assert client.get(f"{job_url}.json").get_json()["state"] == "queued"  # not run here
    jobs.run_pending(app.extensions["ketnap.engine"], import_settings(app))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.get(f"{job_url}.json").get_json()
        if state["state"] in ("done", "failed"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the import did not end")


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# ── forms ─────────────────────────────────────────────────────────────────
def test_the_case_page_offers_the_forms_of_the_steps_reached(app: Flask, docs: Docs) -> None:
    case_id = docs.case_in("cell_resolved")
    client = login(app, "secretary")

    page = client.get(f"/cases/{case_id}").get_data(as_text=True)

    assert "Mẫu 6-KNĐ" in page or "6-KNĐ" in page
    links = re.findall(rf'href="(/cases/{case_id}/forms/[^"]+)"', page)
    assert sorted({link.split("/")[-1].split("?")[0] for link in links}) == [
        "20-knd.docx",
        "3-knd.docx",
        "6-knd.docx",
    ]
    assert sum("3-knd.docx?sponsor=" in link for link in links) == 2  # one per sponsor
    assert "13-knd" not in page


def test_a_form_downloads_as_a_word_document_with_the_case_in_it(app: Flask, docs: Docs) -> None:
    case_id = docs.case_in("cell_resolved")
    client = login(app, "secretary")

    answer = client.get(f"/cases/{case_id}/forms/6-knd.docx")

    assert answer.status_code == 200
    assert answer.mimetype.endswith("wordprocessingml.document")
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    document = docx.Document(io.BytesIO(answer.data))
    text = "\n".join(p.text for p in document.paragraphs)
    case = docs.case(case_id)
    assert f"{case.cell_resolution_on:%d/%m/%Y}" in text or "ngày" in text
    assert "Mẫu 6-KNĐ" in text


def test_forms_outside_the_scope_or_not_due_are_not_found(app: Flask, docs: Docs) -> None:
    other_cell = docs.case_in("cell_resolved", cell=docs.bang_lung_cell)
    nominated = docs.case_in("nominated")
    client = login(app, "secretary")

    assert client.get(f"/cases/{other_cell}/forms/6-knd.docx").status_code == 404
    assert client.get(f"/cases/{nominated}/forms/13-knd.docx").status_code == 404
    assert client.get(f"/cases/{nominated}/forms/nothing.docx").status_code == 404
    assert client.get(f"/cases/{nominated}/forms/3-knd.docx?sponsor=x").status_code == 404
    assert app.test_client().get(f"/cases/{nominated}/forms/6-knd.docx").status_code == 302


# ── import ────────────────────────────────────────────────────────────────
def test_an_upload_is_imported_in_the_background_with_a_report_of_rejected_rows(
    app: Flask, docs: Docs
) -> None:
    rows = [
        docs.case_row(1),
        docs.case_row(2) | {"cell": 31337},
        docs.case_row(3, target="verified"),
    ]
    path = write_csv(docs.directory / "lịch sử.csv", rows)
    client = login(app, "admin")
    before = docs.counts()

    answer = client.post(
        "/import",
        data={"file": (path.open("rb"), "lịch sử.csv"), "kind": "", "mode": "import"},
        content_type="multipart/form-data",
    )

    assert answer.status_code == 303
    job_url = answer.headers["Location"]
    state = wait_for(client, job_url)
    assert state["state"] == "done" and state["percent"] == 100
    report = state["report"]
    assert (report["rows"], report["written"], report["rejected"]) == (3, 2, 1)
    page = visible(client.get(job_url).get_data(as_text=True))
    assert "Không có chi bộ '31337' trong phạm vi của bạn" in page
    assert re.search(r"\b3 cell Không có chi bộ", page)  # the line, the column, the reason
    with client.get(f"{job_url}/rejected.csv") as rejected:  # a file streams: close it
        assert rejected.status_code == 200
        lines = list(csv.reader(io.StringIO(rejected.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[1][:2] == ["3", "cell"]
    assert docs.counts()["Case"] == before["Case"] + 2


def test_a_file_with_wrong_columns_fails_with_a_clear_message(app: Flask, docs: Docs) -> None:
    client = login(app, "officer")
    answer = client.post(
        "/import",
        data={"file": (io.BytesIO(b"ten,ngay\nA,1\n"), "x.csv"), "kind": "members"},
        content_type="multipart/form-data",
    )

    state = wait_for(client, answer.headers["Location"])

    assert state["state"] == "failed"
    page = visible(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "thiếu cột: full_name, cell, status, joined_on" in page


def test_a_trial_run_writes_nothing(app: Flask, docs: Docs) -> None:
    path = write_csv(docs.directory / "dry.csv", [docs.case_row(5)])
    client = login(app, "admin")
    before = docs.counts()

    answer = client.post(
        "/import",
        data={"file": (path.open("rb"), "dry.csv"), "mode": "dry_run"},
        content_type="multipart/form-data",
    )
    state = wait_for(client, answer.headers["Location"])

    assert state["report"]["accepted"] == 1 and state["report"]["written"] == 0
    assert docs.counts() == before


def test_the_import_page_refuses_a_missing_or_foreign_file(app: Flask) -> None:
    client = login(app, "admin")
    client.post("/locale", data={"locale": "en"})

    page = client.get("/import").get_data(as_text=True)
    missing = client.post("/import", data={}, content_type="multipart/form-data")
    foreign = client.post(
        "/import",
        data={"file": (io.BytesIO(b"x"), "cases.pdf")},
        content_type="multipart/form-data",
    )

    assert "nominated_on*" in page and "target_state*" in page  # the documented layout
    assert missing.status_code == 400 and "Choose a file" in missing.get_data(as_text=True)
    assert foreign.status_code == 400
    assert "Only CSV (UTF-8) or Excel" in foreign.get_data(as_text=True)


def test_only_officers_and_admins_import_and_only_their_own_jobs(app: Flask, docs: Docs) -> None:
    path = write_csv(docs.directory / "mine.csv", [docs.case_row(6)])
    admin = login(app, "admin")
    job_url = admin.post(
        "/import",
        data={"file": (path.open("rb"), "mine.csv")},
        content_type="multipart/form-data",
    ).headers["Location"]
    wait_for(admin, job_url)

    assert login(app, "secretary").get("/import").status_code == 403
    assert login(app, "auditor").get("/import").status_code == 403
    officer = login(app, "officer")
    assert officer.get("/import").status_code == 200
    assert officer.get(job_url).status_code == 404  # someone else's import
    assert officer.get(f"{job_url}.json").status_code == 404


def test_the_layout_templates_download_as_csv_headers(app: Flask) -> None:
    answer = login(app, "officer").get("/import/templates/members.csv")

    assert answer.status_code == 200
    header = answer.get_data(as_text=True).lstrip("\ufeff")
    assert header.startswith(
        "Họ và tên,Chi bộ,Đảng viên,"
    )  # the user's words; the import reads them


# ── export ────────────────────────────────────────────────────────────────
def test_exports_hold_what_the_user_may_read(app: Flask, docs: Docs) -> None:
    mine = docs.case_in("sponsored", cell=docs.dong_lo_cell)
    docs.case_in("sponsored", cell=docs.bang_lung_cell)
    secretary = login(app, "secretary")

    answer = secretary.get("/export/cases.csv")
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    with secretary.get("/export/cases.xlsx") as xlsx:  # a spooled file streams: close it
        workbook = xlsx.data

    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert [int(r["Số hồ sơ"]) for r in rows] == [mine]  # labels: a person reads it
    sheet = load_workbook(io.BytesIO(workbook), read_only=True).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [mine]
    assert login(app, "sponsor").get("/export/members.csv").status_code == 403
    with secretary.get("/export/members.xlsx") as members:
        assert members.status_code == 200
    assert secretary.get("/export/cases.pdf").status_code == 404
    assert "/export/members.csv" in secretary.get("/export").get_data(as_text=True)


# ── import: limits ────────────────────────────────────────────────────────
@pytest.fixture
def small_app(docs: Docs, tmp_path: Path) -> Flask:
    return create_app(
        docs.engine,
        Config(),
        TESTING=True,
        WTF_CSRF_ENABLED=True,  # CSRF reads the form first: the limit must hold even so
        RATELIMIT_ENABLED=False,
        SECRET_KEY="test-secret",
        KETNAP_IMPORTS={"dir": str(tmp_path / "jobs"), "max_upload_mb": 5, "per_user": 1},
    )


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/import").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token
    answer = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 302
    return client


def post_file(client: FlaskClient, content: bytes, name: str) -> Any:
    """A multipart upload encoded in memory (the test client would spool a large body
    to a temporary file that a refused request leaves unclosed)."""
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(content), name), "csrf_token": csrf_token(client)}
    )
    return client.post(
        "/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_the_upload_limit_the_page_states_is_the_one_enforced(small_app: Flask) -> None:
    client = signed_in(small_app, "admin")
    client.post("/locale", data={"locale": "en", "csrf_token": csrf_token(client)})
    page = visible(client.get("/import").get_data(as_text=True))
    assert "At most 5 MB" in page

    three_mb = b"full_name,cell,status,joined_on\n" + b"x" * (3 * 1024 * 1024)  # over 2 MB
    accepted = post_file(client, three_mb, "big.csv")
    too_big = post_file(client, b"x" * (5 * 1024 * 1024 + 1), "bigger.csv")

    assert accepted.status_code == 303
    assert too_big.status_code == 413


def test_a_second_upload_waits_for_the_first_with_a_clear_message(
    small_app: Flask, docs: Docs
) -> None:
    path = write_csv(docs.directory / "one.csv", [docs.case_row(7)])
    client = signed_in(small_app, "officer")

    def upload() -> Any:
        return client.post(
            "/import",
            data={"file": (path.open("rb"), "one.csv"), "csrf_token": csrf_token(client)},
            content_type="multipart/form-data",
        )

    first, second = upload(), upload()

    assert first.status_code == 303
    assert second.status_code == 429
    assert "đang chờ hoặc đang chạy" in visible(second.get_data(as_text=True))
    wait_for(client, first.headers["Location"])
    assert upload().status_code == 303


def test_an_xlsx_bomb_upload_fails_with_a_clear_message(app: Flask, docs: Docs) -> None:
    from tests.documents.test_import_jobs import xlsx_bomb

    bomb = xlsx_bomb(docs.directory / "m.xlsx", unpacked_mb=260)
    client = login(app, "officer")
    answer = client.post(
        "/import",
        data={"file": (bomb.open("rb"), "m.xlsx")},
        content_type="multipart/form-data",
    )

    state = wait_for(client, answer.headers["Location"])

    assert state["state"] == "failed"
    page = visible(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "bom nén" in page
