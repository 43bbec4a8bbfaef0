# The test client types `response.json` as `Any | None`; these tests index it freely.
# mypy: disable-error-code="index, union-attr"
"""The report pages and the JSON/CSV/XLSX API answer, within the user's scope, with
clear 400s for bad parameters (SQLite; the SQL itself is proven on both databases in
test_known_counts)."""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterator
from datetime import date

import pytest
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlmodel import select

from tests.reports.conftest import Admitted, add_rows, new_engine
from web.app import create_app
from workflow.config import Config
from workflow.engine import Engine
from workflow.models import AdmissionTarget, Course, Organisation, Village
from workflow.ops import demo
from workflow.reports import catalogue

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo tree and users; 20 admissions in 2025 in Đông Lỗ's first cell, 5 in
    Bằng Lũng's (fixture rows, see conftest)."""
    built = new_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'ketnap.db'}")
    with built.session() as session:
        world = demo.build_world(session, random.Random(3))
        first = session.get(Organisation, world.cell_ids[0])
        other = session.get(Organisation, world.cell_ids[3])
        assert first is not None and other is not None
        add_rows(session, first, [(date(2025, m, 3), Admitted("female")) for m in range(1, 11)])
        add_rows(session, first, [(date(2025, m, 9), Admitted()) for m in range(1, 11)])
        add_rows(session, other, [(date(2025, 6, 1), Admitted())] * 5)
    yield built
    built.database.dispose()


@pytest.fixture(scope="module")
def app(engine: Engine) -> Flask:
    settings = {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    return create_app(engine, Config(), SECRET_KEY="test", **settings)


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
    assert answer.status_code == 302, username
    return client


def org_id(engine: Engine, name: str) -> int:
    with engine.session() as session:
        org = session.exec(select(Organisation).where(Organisation.name == name)).one()
    assert org.id is not None
    return org.id


def text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


# ── the API ───────────────────────────────────────────────────────────────
def test_the_catalogue_lists_every_report(app: Flask) -> None:
    answer = login(app, "officer-tinh").get("/api/v1/reports")
    assert answer.status_code == 200
    assert answer.json == catalogue.catalogue()


@pytest.mark.parametrize("name", catalogue.NAMES)
def test_every_report_answers_as_json_csv_and_xlsx(app: Flask, name: str) -> None:
    client = login(app, "officer-tinh")
    figures = client.get(f"/api/v1/reports/{name}", query_string=YEAR)
    assert figures.status_code == 200 and figures.json["name"] == name
    assert figures.json["organisation"]["name"] == "Đảng bộ tỉnh Bắc Giang"
    as_csv = client.get(f"/api/v1/reports/{name}.csv", query_string=YEAR)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0] == [figures.json["title"]]
    as_xlsx = client.get(f"/api/v1/reports/{name}.xlsx", query_string=YEAR)
    assert as_xlsx.status_code == 200
    book = load_workbook(io.BytesIO(as_xlsx.data))
    assert book.sheetnames[0] == "Báo cáo"
    assert len(book.sheetnames) == 1 + len(figures.json["tables"])


def test_the_spreadsheets_hold_the_figures(app: Flask) -> None:
    client = login(app, "officer-tinh")
    book = load_workbook(
        io.BytesIO(client.get("/api/v1/reports/breakdown.xlsx", query_string=YEAR).data)
    )
    headline = book.worksheets[1]
    values = [[cell.value for cell in row] for row in headline.iter_rows()]
    assert values[0] == ["Nhóm", "Số lượng", "Tỷ lệ"]
    assert values[1] == ["Tổng số", 25, 1.0]
    assert values[2] == ["Nữ", 10, 0.4]
    assert headline.cell(3, 3).number_format == "0.0%"
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/api/v1/reports/breakdown.csv", query_string=YEAR).data.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert ["Nữ", "10", "40.0"] in rows


def test_a_subtree_counts_only_its_own_cases(app: Flask, engine: Engine) -> None:
    client = login(app, "officer-tinh")
    for name, admitted in (("Đảng ủy xã Đông Lỗ", 20), ("Đảng ủy thị trấn Bằng Lũng", 5)):
        query = YEAR | {"org": str(org_id(engine, name))}
        assert (
            client.get("/api/v1/reports/admissions", query_string=query).json["admitted"]
            == admitted
        )
    whole = client.get("/api/v1/reports/admissions", query_string=YEAR).json
    assert whole["admitted"] == 25


def test_an_organisation_outside_the_users_subtree_does_not_exist_for_them(
    app: Flask, engine: Engine
) -> None:
    client = login(app, "officer-bang-lung")
    dong_lo = str(org_id(engine, "Đảng ủy xã Đông Lỗ"))
    assert (
        client.get("/api/v1/reports/admissions", query_string={"org": dong_lo}).status_code == 404
    )
    assert client.get("/reports/admissions", query_string={"org": dong_lo}).status_code == 404
    mine = client.get("/api/v1/reports/admissions", query_string=YEAR).json
    assert mine["organisation"]["name"] == "Đảng ủy thị trấn Bằng Lũng" and mine["admitted"] == 5
    assert (
        client.get("/api/v1/reports/admissions", query_string={"org": "99999"}).status_code == 404
    )


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"from": "2025-02-30"}, "from", "không phải ngày hợp lệ"),
        ({"to": "2025/12/31"}, "to", "không phải ngày hợp lệ"),
        ({"from": "2025-06-01", "to": "2025-01-01"}, "to", "trước ngày bắt đầu"),
        ({"org": "một"}, "org", "không hợp lệ"),
        ({"org": "-1"}, "org", "không hợp lệ"),
        ({"from": "0001-01-01"}, "from", "nằm ngoài khoảng"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_field(
    app: Flask, query: dict[str, str], field: str, words: str
) -> None:
    client = login(app, "officer-tinh")
    answer = client.get("/api/v1/reports/admissions", query_string=query)
    assert answer.status_code == 400
    assert answer.json["error"]["field"] == field and words in answer.json["error"]["message"]
    page = client.get("/reports/admissions", query_string=query)
    assert page.status_code == 400 and words in text(page.data)


@pytest.mark.parametrize("name", catalogue.NAMES)
@pytest.mark.parametrize("username", ["secretary", "officer", "auditor", "admin"])
def test_every_role_that_reads_reports_reads_each_one_and_a_sponsor_none(
    app: Flask, name: str, username: str
) -> None:
    client = login(app, username)
    assert client.get(f"/reports/{name}", query_string=YEAR).status_code == 200
    for suffix in ("", ".csv", ".xlsx"):
        assert client.get(f"/api/v1/reports/{name}{suffix}", query_string=YEAR).status_code == 200
    sponsor = login(app, "sponsor")
    assert sponsor.get(f"/api/v1/reports/{name}", query_string=YEAR).status_code == 403
    assert sponsor.get(f"/reports/{name}", query_string=YEAR).status_code == 403


def test_an_unknown_report_is_a_404_and_a_sponsor_reads_no_figures(app: Flask) -> None:
    client = login(app, "officer-tinh")
    assert client.get("/api/v1/reports/nothing").status_code == 404
    assert client.get("/api/v1/reports/nothing.csv").status_code == 404
    assert client.get("/reports/nothing").status_code == 404
    sponsor = login(app, "sponsor")
    assert sponsor.get("/api/v1/reports/admissions").status_code == 403
    assert app.test_client().get("/api/v1/reports/admissions").status_code == 401


# ── targets through the API ───────────────────────────────────────────────
def test_an_officer_sets_a_target_and_the_report_states_the_share(
    app: Flask, engine: Engine
) -> None:
    client = login(app, "officer")  # Đông Lỗ's officer
    dong_lo = org_id(engine, "Đảng ủy xã Đông Lỗ")
    body = {"organisation_id": dong_lo, "kind": "year", "year": 2025, "number": 24}
    answer = client.post("/api/v1/targets", json=body)
    assert answer.status_code == 201 and answer.json["number"] == 24
    listed = client.get("/api/v1/targets").json
    assert [(t["organisation_id"], t["number"]) for t in listed] == [(dong_lo, 24)]
    figures = client.get("/api/v1/reports/admissions", query_string=YEAR).json
    assert figures["targets"][0]["text"] == "83,3%"  # 20 of 24
    again = client.post("/api/v1/targets", json=body | {"number": 25})
    assert again.status_code == 201
    with engine.session() as session:
        stored = session.exec(select(AdmissionTarget)).all()
    assert [t.number for t in stored] == [25]  # the same target, changed
    assert client.delete(f"/api/v1/targets/{again.json['id']}").status_code == 204
    assert client.get("/api/v1/targets").json == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "year", "year": 2025, "number": 10}, "organisation_id"),
        ({"organisation_id": 1, "kind": "decade", "number": 10}, "kind"),
        ({"organisation_id": 1, "kind": "year", "year": 2025, "number": 0}, "number"),
        ({"organisation_id": 1, "kind": "year", "year": 2025, "number": True}, "number"),
        (
            {
                "organisation_id": 1,
                "kind": "resolution",
                "period_start": "2021-01-01",
                "period_end": "2025-12-31",
                "number": 9,
            },
            "ref",
        ),
        (
            {
                "organisation_id": 1,
                "kind": "congress_term",
                "period_start": "2025-01-01",
                "period_end": "2020-12-31",
                "number": 9,
            },
            "period_end",
        ),
        (
            {"organisation_id": 1, "kind": "year", "year": 2025, "number": 5, "colour": "red"},
            "colour",
        ),
    ],
)
def test_a_bad_target_is_a_400_naming_the_field(
    app: Flask, body: dict[str, object], field: str
) -> None:
    answer = login(app, "admin").post("/api/v1/targets", json=body)
    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["field"] == field


def test_congress_terms_of_one_organisation_do_not_overlap(app: Flask) -> None:
    client = login(app, "admin")
    term = {"organisation_id": 1, "kind": "congress_term", "number": 90}
    first = client.post(
        "/api/v1/targets", json=term | {"period_start": "2020-10-01", "period_end": "2025-09-30"}
    )
    assert first.status_code == 201
    overlapping = client.post(
        "/api/v1/targets", json=term | {"period_start": "2025-01-01", "period_end": "2030-09-30"}
    )
    assert overlapping.status_code == 400 and "chồng lấn" in overlapping.json["error"]["message"]
    client.delete(f"/api/v1/targets/{first.json['id']}")


def test_targets_are_set_only_by_officers_and_admins_within_their_subtree(
    app: Flask, engine: Engine
) -> None:
    body = {
        "organisation_id": org_id(engine, "Đảng ủy xã Đông Lỗ"),
        "kind": "year",
        "year": 2030,
        "number": 5,
    }
    assert login(app, "secretary").post("/api/v1/targets", json=body).status_code == 403
    assert login(app, "auditor").post("/api/v1/targets", json=body).status_code == 403
    assert login(app, "officer-bang-lung").post("/api/v1/targets", json=body).status_code == 404
    assert app.test_client().post("/api/v1/targets", json=body).status_code == 401


def test_the_api_takes_a_bearer_token_without_a_csrf_token(engine: Engine) -> None:
    strict = create_app(engine, Config(), SECRET_KEY="test", TESTING=True, RATELIMIT_ENABLED=False)
    client = strict.test_client()
    token = client.post(
        "/api/v1/token", json={"username": "officer-tinh", "password": demo.DEMO_PASSWORD}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"organisation_id": 1, "kind": "year", "year": 2031, "number": 7}
    answer = client.post("/api/v1/targets", json=body, headers=headers)
    assert answer.status_code == 201
    assert client.delete(f"/api/v1/targets/{answer.json['id']}", headers=headers).status_code == 204
    page = strict.test_client()
    page.post("/login", data={"username": "admin", "password": demo.DEMO_PASSWORD})
    refused = page.post("/reports/targets", data={"kind": "year"})  # no CSRF token
    assert refused.status_code == 302 and refused.location.endswith("/resume")  # kept, unsent


# ── pages ─────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("name", catalogue.NAMES)
def test_each_report_page_shows_its_tables_and_an_svg_chart(app: Flask, name: str) -> None:
    page = login(app, "officer-tinh").get(f"/reports/{name}", query_string=YEAR)
    assert page.status_code == 200
    html = page.data.decode()
    assert "<svg" in html and "<title" in html
    assert re.search(r"<svg[^>]*style=", html) is None  # the CSP forbids inline styles
    assert "<table" in html
    assert "01/01/2025" in html and "31/12/2025" in html


def test_the_admissions_page_draws_the_target_line(app: Flask) -> None:
    client = login(app, "admin")
    made = client.post(
        "/api/v1/targets", json={"organisation_id": 1, "kind": "year", "year": 2025, "number": 40}
    )
    html = client.get("/reports/admissions", query_string=YEAR | {"org": "1"}).data.decode()
    assert "stroke-dasharray" in html and "năm 2025: 40" in html
    assert "62,5%" in html  # 25 of 40
    client.delete(f"/api/v1/targets/{made.json['id']}")


def test_the_index_and_summary_pages_answer(app: Flask) -> None:
    client = login(app, "auditor")
    index = client.get("/reports")
    assert index.status_code == 200
    for spec in catalogue.REPORTS:
        assert f"/reports/{spec.name}" in index.data.decode()
    summary = client.get("/reports/summary", query_string=YEAR)
    assert summary.status_code == 200
    assert "Năm 2025, toàn Đảng bộ tỉnh Bắc Giang kết nạp được 25 đảng viên" in text(summary.data)
    told = client.get("/api/v1/narrative", query_string=YEAR).json
    assert told["text"].startswith("Kết quả công tác phát triển đảng viên")
    assert "Trong đó: nữ 10 (40,0%)" in told["text"]
    word = client.get("/api/v1/narrative.docx", query_string=YEAR)
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    paragraphs = [p.text for p in Document(io.BytesIO(word.data)).paragraphs]
    word.close()
    assert any("toàn Đảng bộ tỉnh Bắc Giang kết nạp được 25 đảng viên" in p for p in paragraphs)


def test_the_targets_page_sets_a_target_and_shows_a_bad_one(app: Flask, engine: Engine) -> None:
    client = login(app, "officer-tinh")
    form = {"organisation_id": "1", "kind": "year", "year": "2027", "number": "33", "ref": ""}
    assert client.post("/reports/targets", data=form).status_code == 302
    listed = text(client.get("/reports/targets").data)
    assert "Đảng bộ tỉnh Bắc Giang" in listed and "33" in listed
    bad = client.post("/reports/targets", data=form | {"number": "nhiều"})
    assert bad.status_code == 400 and "Số chỉ tiêu" in text(bad.data)
    assert login(app, "auditor").post("/reports/targets", data=form).status_code == 403
    with engine.session() as session:
        target = session.exec(select(AdmissionTarget).where(AdmissionTarget.number == 33)).one()
    assert client.post(f"/reports/targets/{target.id}/delete").status_code == 302


def test_an_officer_records_a_class_with_its_headcount(app: Flask, engine: Engine) -> None:
    client = login(app, "officer")
    dong_lo = str(org_id(engine, "Đảng ủy xã Đông Lỗ"))
    form = {
        "kind": "awareness",
        "name": "Lớp nhận thức khóa II/2025",
        "issuer": "Trung tâm Chính trị",
        "organisation_id": dong_lo,
        "starts_on": "2025-09-08",
        "ends_on": "2025-09-12",
        "attendees": "62",
    }
    assert client.post("/reports/class-records", data=form).status_code == 302
    assert "Lớp nhận thức khóa II/2025" in text(client.get("/reports/class-records").data)
    figures = client.get("/api/v1/reports/classes", query_string=YEAR).json
    assert figures["by_kind"][0]["attendees"] == 62
    bad = client.post("/reports/class-records", data=form | {"ends_on": "2025-09-01"})
    assert bad.status_code == 400
    with engine.session() as session:
        assert len(session.exec(select(Course)).all()) == 1  # nothing half-written


def test_village_records_feed_report_6(app: Flask, engine: Engine) -> None:
    client = login(app, "admin")
    dong_lo = str(org_id(engine, "Đảng ủy xã Đông Lỗ"))
    page = "/reports/village-records?org=" + dong_lo
    add = {"action": "add_village", "organisation_id": dong_lo, "name": "Thôn Nà Pài"}
    assert client.post(page, data=add).status_code == 302
    with engine.session() as session:
        village = session.exec(select(Village).where(Village.name == "Thôn Nà Pài")).one()
    steps = [
        {
            "action": "census",
            "village_id": village.id,
            "counted_on": "2025-01-01",
            "party_members": "0",
        },
        {
            "action": "add_official",
            "village_id": village.id,
            "role": "head",
            "full_name": "Nông Văn Páo",
            "starts_on": "2024-01-01",
        },
        {
            "action": "add_official",
            "village_id": village.id,
            "role": "deputy",
            "full_name": "Hoàng Thị Slao",
            "starts_on": "2024-01-01",
            "party_member_since": "2025-07-01",
        },
    ]
    for step in steps:
        assert client.post(page, data=step).status_code == 302, step
    figures = client.get("/api/v1/reports/villages", query_string=YEAR | {"org": dong_lo}).json
    first, last = figures["at"]
    assert (first["without_member"], first["deputies"]["text"]) == (1, "0,0%")
    assert (last["without_member"], last["deputies"]["text"]) == (1, "100,0%")
    assert figures["without_member_names"] == [
        {"name": "Thôn Nà Pài", "organisation": "Đảng ủy xã Đông Lỗ"}
    ]
    html = text(client.get(page).data)
    assert "Thôn Nà Pài" in html and "Nông Văn Páo" in html
    bad = client.post(
        page,
        data={
            "action": "census",
            "village_id": village.id,
            "counted_on": "hôm nay",
            "party_members": "1",
        },
    )
    assert bad.status_code == 400 and "không phải ngày hợp lệ" in text(bad.data)
    unknown = client.post(
        page,
        data={
            "action": "census",
            "village_id": "999",
            "counted_on": "2025-01-01",
            "party_members": "1",
        },
    )
    assert unknown.status_code == 404
    assert login(app, "secretary").post(page, data=add | {"name": "Thôn Khác"}).status_code == 403
