"""The import and export on a real PostgreSQL: the same rows, savepoints and scoping."""

from __future__ import annotations

import io

import pytest

from tests.documents.conftest import Docs, write_csv
from workflow import history
from workflow.exchange import export as exporter
from workflow.exchange import run

pytestmark = pytest.mark.postgres


def test_import_on_postgresql_writes_good_rows_only_and_exports_them_back(pg_docs: Docs) -> None:
    docs = pg_docs
    good = [docs.case_row(1), docs.case_row(2, cell=docs.bang_lung_cell, target="probationary")]
    bad = [
        docs.case_row(3) | {"cell": 4040},
        docs.case_row(4) | {"cell_votes_for": 1},  # refused by the engine at replay
        docs.case_row(5) | {"national_id": good[0]["national_id"]},  # the same person
    ]
    path = write_csv(docs.directory / "pg.csv", good + bad)
    before = docs.counts()

    dry = run.import_file(docs.engine, path, docs.admin, dry_run=True)
    assert docs.counts() == before
    report = run.import_file(docs.engine, path, docs.admin)

    assert (dry.accepted, report.written) == (2, 2)
    assert {(e.line, e.rule) for e in report.errors} == {
        (4, None),
        (5, "two_thirds"),
        (6, "duplicate"),
    }
    after = docs.counts()
    assert after["Case"] - before["Case"] == 2 and after["Person"] - before["Person"] == 2
    with docs.engine.session() as session:
        assert history.verify_all(session) == []
    out = io.BytesIO()
    exporter.export(docs.engine, docs.admin, "cases", "csv", out)
    lines = out.getvalue().decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and "Nguyễn Thị Thử 2" in lines[2]
