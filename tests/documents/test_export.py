"""Export of cases and members: what the actor may read, in the import's layout, so an
exported file reads back (and imports back) as the same cases."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from tests.documents.conftest import TODAY, Docs, new_engine, write_csv
from workflow import history
from workflow.access import Forbidden
from workflow.clock import FixedClock
from workflow.exchange import export as exporter
from workflow.exchange import run
from workflow.exchange.rows import _clean
from workflow.models import Case, Person
from workflow.ops import demo


def exported(docs: Docs, what: str, fmt: str, username: str = "admin") -> bytes:
    out = io.BytesIO()
    exporter.export(docs.engine, docs.user(username), what, fmt, out)
    return out.getvalue()


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_cases_export_to_csv_and_read_back(docs: Docs) -> None:
    ids = [docs.case_in(state) for state in ("official", "probationary", "sponsored")]

    rows = csv_rows(exported(docs, "cases", "csv"))

    assert [int(r["case_id"]) for r in rows] == ids
    assert list(rows[0]) == exporter.header("cases")
    with docs.engine.session() as session:
        case = session.get(Case, ids[0])
        assert case is not None
        person = session.get(Person, case.person_id)
    assert person is not None and case is not None
    first = rows[0]
    assert first["full_name"] == person.full_name
    assert first["birth_date"] == person.birth_date.isoformat()
    assert first["target_state"] == first["state"] == "official"
    assert first["cell_resolution_on"] == str(case.cell_resolution_on)
    assert (first["cell_voters"], first["cell_votes_for"]) == ("9", "9")
    assert first["official_decision_on"] and first["ceremony_on"] == str(case.ceremony_on)
    assert first["sponsor1"] == str(docs.world.officials[docs.dong_lo_cell][0])
    assert rows[2]["ceremony_on"] == ""  # not reached yet


def test_cases_export_to_xlsx_with_real_dates(docs: Docs) -> None:
    case_id = docs.case_in("admission_decided")

    book = load_workbook(io.BytesIO(exported(docs, "cases", "xlsx")), read_only=True)
    sheet = book.worksheets[0]
    header, row = list(sheet.iter_rows(values_only=True))[:2]

    values = dict(zip(header, row, strict=False))  # trailing empty cells are not stored
    assert values["case_id"] == case_id
    assert values["state"] == "admission_decided"
    assert values["decision_on"].date() == docs.case(case_id).decision_on  # a date cell


def test_an_export_holds_only_what_the_actor_may_read(docs: Docs) -> None:
    mine = docs.case_in("verified", cell=docs.dong_lo_cell)
    docs.case_in("verified", cell=docs.bang_lung_cell)

    secretary = csv_rows(exported(docs, "cases", "csv", "secretary"))
    officer = csv_rows(exported(docs, "cases", "csv", "officer-bang-lung"))
    members = csv_rows(exported(docs, "members", "csv", "officer-bang-lung"))

    assert [int(r["case_id"]) for r in secretary] == [mine]
    assert [r["cell"] for r in officer] == [str(docs.bang_lung_cell)]
    assert {r["cell"] for r in members} == {str(c) for c in docs.world.cell_ids[3:]}
    with pytest.raises(Forbidden):
        exported(docs, "members", "csv", "sponsor")


def test_members_export_reads_back(docs: Docs) -> None:
    rows = csv_rows(exported(docs, "members", "csv"))

    assert list(rows[0]) == exporter.header("members")
    assert len(rows) == sum(len(v) + 2 for v in docs.world.officials.values())
    assert {r["status"] for r in rows} == {"official", "probationary"}


def test_exported_cases_import_into_another_ketnap_as_the_same_cases(
    docs: Docs, tmp_path: Path
) -> None:
    for state in ("official", "probationary", "committee_resolved", "in_class"):
        docs.case_in(state, cell=docs.bang_lung_cell if state == "committee_resolved" else None)
    path = tmp_path / "cases.xlsx"
    path.write_bytes(exported(docs, "cases", "xlsx"))
    other = new_engine(tmp_path / "other.db")
    with other.session() as session:
        demo.build_world(session, random.Random(7))  # the same tree, members and ids
    assert isinstance(other.clock, FixedClock) and other.clock.today() == TODAY

    report = run.import_file(other, path, docs.admin)

    assert report.errors == []
    with docs.engine.session() as mine, other.session() as theirs:
        count = select(Case.state, func.count()).group_by(Case.state)
        assert sorted(mine.exec(count).all()) == sorted(theirs.exec(count).all())
        dates = select(Case.nominated_on, Case.ceremony_on, Case.official_on).order_by(Case.id)
        assert mine.exec(dates).all() == theirs.exec(dates).all()
        assert history.verify_all(theirs) == []


def test_text_a_spreadsheet_would_run_is_quoted_and_imports_back(docs: Docs) -> None:
    row = docs.case_row(1, target="nominated") | {"full_name": "=HYPERLINK(1)"}
    run.import_file(docs.engine, write_csv(docs.directory / "f.csv", [row]), docs.admin)
    content = exported(docs, "cases", "csv")

    assert "'=HYPERLINK(1)" in content.decode("utf-8-sig")
    assert _clean("'=HYPERLINK(1)") == "=HYPERLINK(1)"
    assert date.fromisoformat(csv_rows(content)[0]["nominated_on"]) == row["nominated_on"]
