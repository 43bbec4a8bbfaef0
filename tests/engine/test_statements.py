"""Statements per advance: what one transition sends to the database, counted over the
15 steps of the procedure (demo.PATH), per dialect. A count, not a timing: the figures
the write path reached (bench/FINDINGS.md, "Statements per advance") must not creep
back up. `bench.advance.statements_along_path` is the bench's own counter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bench.advance import StepStatements, statements_along_path
from tests.engine.conftest import TODAY, Setup
from workflow import enrolment, process
from workflow.acts import member_ids
from workflow.models import Organisation
from workflow.ops import demo

# Statements for the 15 advances of demo.PATH, BEGIN and COMMIT aside (issue 13 asks
# ≤ 5 per advance). PostgreSQL: 3.93 per advance (9.4 before). SQLite, one statement
# per table written (no data-modifying CTEs): 6.4 (7.4 before) — see bench/FINDINGS.md.
BUDGET = {"sqlite": 96, "postgresql": 59}


def walk(setup: Setup) -> list[StepStatements]:
    start = TODAY - timedelta(days=demo.path_days(list(demo.PATH)) + 5)
    return statements_along_path(setup.engine, setup.world, setup.dong_lo_cell, start)


def test_statements_per_advance_stay_within_the_budget(setup: Setup) -> None:
    steps = walk(setup)
    dialect = setup.engine.database.dialect.name
    total = sum(len(step.statements) for step in steps)
    assert [step.event for step in steps] == [step.event for step in demo.PATH]
    assert total <= BUDGET[dialect], {step.event: len(step.statements) for step in steps}
    assert total / len(steps) <= (5 if dialect == "postgresql" else 6.4)


def test_each_advance_claims_first_and_reads_no_tree_nor_member_twice(setup: Setup) -> None:
    for step in walk(setup):
        first, *rest = step.statements
        assert first.startswith('UPDATE "case" SET version'), step.event  # the claim
        assert "RETURNING" in first
        # the organisation tree comes from the engine's cache; the members an act names
        # come in one query; the person, the helpers and the deadlines with the claim
        assert not any("FROM organisation" in s for s in step.statements), step.event
        assert sum(s.startswith("SELECT member.") for s in rest) <= 1, step.event
        assert not any(s.startswith(("SELECT person.", "SELECT casedeadline.")) for s in rest)
        assert not any(s.startswith("SELECT helperassignment.") for s in rest), step.event


@pytest.mark.postgres
def test_postgresql_writes_in_one_statement_after_the_ledger_lock(postgres_setup: Setup) -> None:
    for step in walk(postgres_setup):
        *_, lock, write = step.statements
        assert "pg_advisory_xact_lock" in lock, step.event
        assert write.startswith("WITH h AS (INSERT INTO historyevent"), step.event
        assert "INSERT INTO ledger" in write


def test_sqlite_writes_the_deadlines_that_replace_others_in_one_statement(
    sqlite_setup: Setup,
) -> None:
    steps = {step.event: step.statements for step in walk(sqlite_setup)}
    # cell_vote ends one deadline and starts another; hold_ceremony ends one, starts two
    for event in ("cell_vote", "hold_ceremony"):
        writes = [s for s in steps[event][1:] if s.startswith(_DEADLINE_WRITES)]
        assert len(writes) == 1, writes
        assert writes[0].startswith("INSERT INTO casedeadline (id,")
        assert "ON CONFLICT (id) DO UPDATE" in writes[0]


_DEADLINE_WRITES = ("INSERT INTO casedeadline", "UPDATE casedeadline", "DELETE FROM casedeadline")


def test_the_cached_tree_gives_enrolment_the_line_it_reads(sqlite_setup: Setup) -> None:
    """`enrolment.line_from` (the engine's cached tree, no statement) is `line_of`'s line
    for every organisation; an unknown one is None (line_of then names the problem)."""
    engine = sqlite_setup.engine
    with engine.database.connect() as connection:
        ids = connection.execute(select(Organisation.id)).scalars().all()  # type: ignore[call-overload]
        assert len(ids) > 5
        for org_id in ids:
            cached = enrolment.line_from(lambda i: engine._organisation(connection, i), org_id)
            assert cached == enrolment.line_of(connection, org_id)
        assert enrolment.line_from(lambda i: engine._organisation(connection, i), 10**9) is None


def test_the_members_an_act_names_are_found_at_any_depth() -> None:
    sponsors = process.event("assign_sponsors")
    ceremony = process.event("hold_ceremony")
    comment = process.event("record_helper_comment")
    assert sponsors and ceremony and comment
    data = {"sponsors": [{"member_id": 4, "alongside_since": None}, {"member_id": 9}]}
    assert list(member_ids(sponsors.fields, data)) == [4, 9]
    assert list(member_ids(ceremony.fields, {"helpers": [7, 8]})) == [7, 8]
    assert list(member_ids(comment.fields, {"helper_id": 3, "comment": "x"})) == [3]
