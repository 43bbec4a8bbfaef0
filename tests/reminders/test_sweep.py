"""The sweep's one query against its Python twin, its plan, and the `ketnap` commands."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from cli.main import main
from tests.reminders.conftest import Town
from workflow import process
from workflow.config import RuleParameters
from workflow.models import CaseDeadline, InboxItem, Reminder
from workflow.reminders.due import Since, last_sweep, sweep_query, sweep_statement
from workflow.reminders.stages import reminder_stage, warn_offsets

STATES = ("class_passed", "dossier_complete", "cell_resolved", "admission_decided", "probationary")


def spread(town: Town) -> None:
    """Cases with every kind of deadline, at dates spread over a year."""
    for n, state in enumerate(STATES * 2):
        cell = town.world.cell_ids[n % len(town.world.cell_ids)]
        town.case_in(state, date(2026, 3, 2) - timedelta(days=37 * n), cell=cell)


def expected_on(town: Town, today: date) -> set[tuple[int, str, date, str, int]]:
    with town.engine.session() as session:
        rows = list(session.exec(select(CaseDeadline)))
    expected = set()
    for row in rows:
        at = reminder_stage(process.deadline(row.deadline), row.due, today, town.engine.params)
        if at is not None:
            expected.add((row.case_id, row.deadline, row.due, *at))
    return expected


def found_on(town: Town, today: date) -> set[tuple[int, str, date, str, int]]:
    with town.engine.session() as session:
        dues = sweep_query(session, today, town.engine.params)
    return {(d.case_id, d.deadline, d.due, d.stage, d.warn) for d in dues}


def check_agreement(town: Town, days: range) -> int:
    seen = 0
    for n in days:
        today = date(2026, 3, 2) + timedelta(days=n)
        expected = expected_on(town, today)
        assert found_on(town, today) == expected, today
        seen += len(expected)
    return seen


def test_the_sweep_query_agrees_with_its_python_twin_every_day_on_sqlite(town: Town) -> None:
    spread(town)
    assert check_agreement(town, range(-30, 250)) > 100


@pytest.mark.postgres
def test_the_sweep_query_agrees_with_its_python_twin_on_postgresql(pg_town: Town) -> None:
    spread(pg_town)
    assert check_agreement(pg_town, range(-30, 400, 7)) > 20


def test_warn_offsets_come_from_the_rule_parameters() -> None:
    params = RuleParameters()
    assert warn_offsets(process.deadline("certificate"), params) == (30, 90)
    assert warn_offsets(process.deadline("probation_papers"), params) == (30, 60)
    assert warn_offsets(process.deadline("ceremony"), params) == (10,)
    spec = process.deadline("certificate")
    due = date(2027, 6, 30)
    assert reminder_stage(spec, due, due - timedelta(days=91), params) is None
    assert reminder_stage(spec, due, due - timedelta(days=90), params) == ("upcoming", 90)
    assert reminder_stage(spec, due, due - timedelta(days=31), params) == ("upcoming", 90)
    assert reminder_stage(spec, due, due - timedelta(days=30), params) == ("upcoming", 30)
    assert reminder_stage(spec, due, due, params) == ("due", 0)
    assert reminder_stage(spec, due, due + timedelta(days=7), params) == ("overdue", 0)
    assert reminder_stage(spec, due, due + timedelta(days=8), params) == ("escalated", 0)


def test_the_sweep_query_reads_index_ranges_on_sqlite(town: Town) -> None:
    spread(town)
    today = date(2026, 3, 2)
    for since in (None, Since(today - timedelta(days=1), town.clock.now())):
        statement = sweep_statement(today, town.engine.params, since)
        sql = str(statement.compile(town.engine.database, compile_kwargs={"literal_binds": True}))
        with town.engine.database.connect() as connection:
            plan = [row[3] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
        assert not [step for step in plan if step.startswith("SCAN")], plan
        assert any("ix_casedeadline_deadline_due (deadline=? AND due" in s for s in plan), plan
        assert any("ix_case_escalated" in step for step in plan), plan
        assert any("ix_case_updated_at" in step for step in plan) == (since is not None), plan


def test_a_sweep_since_the_last_one_finds_what_a_full_sweep_finds(town: Town) -> None:
    """Daily sweeps read only what changed since the day before; with cases moving in
    between — new ones, a late entry with an old date, an extension, a transfer, a
    ceremony — they must find exactly what reading every deadline finds."""
    spread(town)
    params = town.engine.params
    decided = town.case_in("admission_decided", date(2026, 3, 2))
    authority = town.world.authority_officer[town.dong_lo_cell]
    secretary = town.world.secretary[town.dong_lo_cell]
    events = {
        date(2026, 3, 20): lambda: town.case_in("cell_resolved", date(2025, 12, 1)),
        date(2026, 4, 10): lambda: town.advance(
            decided,
            "grant_extension",
            {"deadline": "ceremony", "working_days": 5, "consent_ref": "CV-1"},
            authority,
            date(2026, 4, 10),
        ),
        date(2026, 4, 30): lambda: town.advance(
            decided,
            "transfer",
            {"to_cell_id": town.world.cell_ids[1]},
            secretary,
            date(2026, 4, 30),
        ),
        date(2026, 5, 2): lambda: town.case_in("probationary", date(2026, 5, 2)),
    }
    found = 0
    for n in range(0, 120):
        today = date(2026, 3, 2) + timedelta(days=n)
        town.clock.advance_to(today)
        if today in events:
            events[today]()
        with town.engine.session() as session:
            since = last_sweep(session, today)
            narrow = sweep_query(session, today, params)
            full = sweep_query(session, today, params, since=None)
        assert (since is None) == (n == 0)
        assert narrow == full, today
        found += len(town.sweep(today).reminders)
    assert found > 20


def test_ketnap_remind_says_what_it_would_send_then_sends_it_once(town: Town) -> None:
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    url = town.engine.database.url.render_as_string(hide_password=False)
    runner = CliRunner()
    remind = ["remind", "--database", url, "--now", "2026-03-13"]

    dry = runner.invoke(main, [*remind, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    lines = dry.output.strip().splitlines()
    assert lines[-1] == "1 reminders would be sent"
    assert lines[0].startswith(f"#{case_id}") and "ceremony" in lines[0]
    assert "upcoming −10d" in lines[0] and "hạn 23/03/2026 → secretary" in lines[0]
    assert town.count(Reminder) == 0 and town.count(InboxItem) == 0

    sent = runner.invoke(main, remind)
    assert sent.exit_code == 0, sent.output
    assert sent.output.strip().splitlines()[-1] == "1 reminders sent"
    assert town.count(Reminder) == 1 and town.count(InboxItem) == 1

    again = runner.invoke(main, remind)
    assert again.output.strip().splitlines()[-1] == "0 reminders sent"


def test_ketnap_remind_on_a_database_that_is_not_there_says_so(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["remind", "--database", f"sqlite:///{tmp_path}/no/such.db"])
    assert missing.exit_code == 1
    assert "Không mở được cơ sở dữ liệu" in missing.output
    empty = runner.invoke(main, ["deadlines", "--database", f"sqlite:///{tmp_path}/empty.db"])
    assert empty.exit_code == 1
    assert "chưa được khởi tạo" in empty.output and "Traceback" not in empty.output


def test_ketnap_deadlines_lists_the_live_deadlines_and_the_overdue_ones(town: Town) -> None:
    late = town.case_in("admission_decided", date(2026, 2, 2))
    soon = town.case_in("admission_decided", date(2026, 3, 2))
    url = town.engine.database.url.render_as_string(hide_password=False)
    runner = CliRunner()
    every = runner.invoke(main, ["deadlines", "--database", url, "--now", "2026-03-25"])
    assert every.exit_code == 0, every.output
    rows = [line.split()[0] for line in every.output.splitlines()[1:-1]]
    assert rows == [str(late), str(soon)]
    assert "Tổ chức lễ kết nạp" in every.output and "overdue (-2 ngày)" in every.output
    assert every.output.strip().endswith("2 deadlines")
    overdue = runner.invoke(
        main, ["deadlines", "--overdue", "--database", url, "--now", "2026-03-25"]
    )
    assert [line.split()[0] for line in overdue.output.splitlines()[1:-1]] == [str(late)]
