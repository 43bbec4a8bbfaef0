"""The case import's bulk write (Engine.replay: one executemany per table on SQLite, one
COPY on PostgreSQL) when the database refuses a row the rules accepted: the batch is
rolled back and its rows replayed one by one, so only the refused row is rejected."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.documents.conftest import Docs, write_csv
from workflow import history
from workflow.exchange import run

REFUSED_NAME = "Người Bị Từ Chối"
REFUSE = {
    "sqlite": (
        "CREATE TRIGGER refuse_person BEFORE INSERT ON person"
        f" WHEN NEW.full_name = '{REFUSED_NAME}'"
        " BEGIN SELECT RAISE(ABORT, 'refused by the database'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION refuse_person() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'refused by the database'; END $$",
        "CREATE TRIGGER refuse_person BEFORE INSERT ON person FOR EACH ROW"
        f" WHEN (NEW.full_name = '{REFUSED_NAME}') EXECUTE FUNCTION refuse_person()",
    ),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_docs(request: pytest.FixtureRequest) -> Docs:
    docs: Docs = request.getfixturevalue("docs" if request.param == "sqlite" else "pg_docs")
    return docs


def test_a_row_the_database_refuses_is_rejected_alone(any_docs: Docs) -> None:
    docs = any_docs
    with docs.engine.database.begin() as connection:
        for statement in REFUSE[docs.engine.database.dialect.name]:
            connection.execute(text(statement))
    rows = [docs.case_row(n, target="official") for n in range(1, 5)]
    rows[2]["full_name"] = REFUSED_NAME  # the file's line 4
    path = write_csv(docs.directory / "cases.csv", rows)

    report = run.import_file(docs.engine, path, docs.admin)

    assert (report.rows, report.accepted, report.written) == (4, 3, 3)
    [error] = report.errors
    assert (error.line, error.rule) == (4, "database")
    assert "refused by the database" in error.text.en
    assert [len(docs.cases_of(row["full_name"])) for row in rows] == [1, 1, 0, 1]
    with docs.engine.session() as session:
        for case_id in report.created_ids:
            assert history.verify_case(session, case_id).intact
        assert history.ledger.verify(session).intact
