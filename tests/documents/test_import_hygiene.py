"""The import applies the rules forms and the API apply: a blank, invisible or
letterless name, a control character in a one-line cell, a date before 1900 and a
number in other digits each reject their row, naming the column; nothing is written."""

from __future__ import annotations

from datetime import date

import pytest

from tests.documents.conftest import Docs, write_csv
from workflow.exchange import layouts, run
from workflow.exchange.report import ImportReport


def only_errors(report: ImportReport) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in report.errors:
        found.setdefault(error.line, []).append(f"{error.column}: {error.text.en}")
    return found


BAD_CASE_CELLS = {
    "zero-width name": {"full_name": "\u200b\u200b"},
    "letterless name": {"full_name": "... --- ..."},
    "name with a vertical tab": {"full_name": "Nguyễn\x0bVăn"},
    "reference with a unit separator": {"nomination_ref": "GT\x1f-12"},
    "birth before 1900": {"birth_date": "31/12/1899"},
    "birth in year 1": {"birth_date": "0001-01-01"},
    "birth in other digits": {"birth_date": "٠١/٠١/١٩٩٠"},
}


@pytest.mark.parametrize("cells", BAD_CASE_CELLS.values(), ids=BAD_CASE_CELLS.keys())
def test_a_bad_cell_rejects_its_case_row_and_names_the_column(
    docs: Docs, cells: dict[str, str]
) -> None:
    good = docs.case_row(30, target="verified")
    bad = docs.case_row(31, target="verified") | cells
    path = write_csv(docs.directory / "cases.csv", [good, bad])
    before = docs.counts()

    report = run.import_file(docs.engine, path, docs.admin)

    errors = only_errors(report)
    assert sorted(errors) == [3], errors
    [column] = cells
    assert any(e.startswith(f"{column}:") for e in errors[3]), errors[3]
    assert (report.accepted, report.rejected) == (1, 1)
    assert docs.counts()["Case"] == before["Case"] + 1


def test_a_blank_name_rejects_its_case_row(docs: Docs) -> None:
    bad = docs.case_row(32, target="nominated") | {"full_name": "   "}
    report = run.import_file(docs.engine, write_csv(docs.directory / "c.csv", [bad]), docs.admin)
    assert only_errors(report) == {2: ["full_name: 'full_name' is empty"]}


@pytest.mark.parametrize("name", ["\u200b", "\u00ad-\u00ad", "Lò\nThị"])
def test_a_member_row_with_a_bad_name_is_rejected(docs: Docs, name: str) -> None:
    row = {
        "full_name": name,
        "cell": docs.dong_lo_cell,
        "status": "official",
        "joined_on": date(1998, 5, 19),
        "official_since": date(1999, 5, 19),
    }
    path = write_csv(docs.directory / "members.csv", [row], layouts.columns("members"))
    before = docs.counts()
    report = run.import_file(docs.engine, path, docs.admin)
    if "\n" in name:  # a line break in a spreadsheet cell is folded to a space: accepted
        assert report.accepted == 1 and docs.counts()["Member"] == before["Member"] + 1
        return
    assert report.rejected == 1 and docs.counts() == before
    assert any(e.startswith("full_name:") for e in only_errors(report)[2])
