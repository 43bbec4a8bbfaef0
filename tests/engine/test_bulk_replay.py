"""`Engine.replay` (history in bulk) writes what one-by-one acts write.

The same histories — whole paths to official membership in cells whose committee may
and may not admit, cases stopped along the way, and (on SQLite) cases an act of which
is refused — are replayed on two copies of one database: one case at a time through
`nominate` and `advance` inside a SAVEPOINT each (rolled back when an act is refused,
as the import did), and all at once through `Engine.replay`. Every row must agree:
cases (state, version, dates, head hash), persons, members, sponsorships, helpers,
classes and attendance, the history rows with their hashes, the ledger, and the live
deadlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from tests.engine.conftest import BOTH, TODAY, Setup, setup_on
from workflow.access import Forbidden
from workflow.engine import Conflict, Engine, NotFound
from workflow.models import (
    Attendance,
    Case,
    CaseDeadline,
    CaseStay,
    Course,
    HelperAssignment,
    HistoryEvent,
    LedgerEntry,
    Member,
    Person,
    Sponsorship,
)
from workflow.ops import demo
from workflow.refusal import Refusal
from workflow.replay import CaseHistory, ReplayAct
from workflow.schema import InvalidData

FAILURES = (Refusal, InvalidData, Conflict, NotFound, Forbidden, SQLAlchemyError)
COMPARED = (Person, Course, Case, Member, Sponsorship, HelperAssignment, Attendance, LedgerEntry)


def histories(setup: Setup, refusals: bool) -> list[CaseHistory]:
    world = setup.world
    actors = {
        "secretary": world.secretary,
        "committee": world.committee_officer,
        "authority": world.authority_officer,
    }
    cases = []
    for n in range(12):
        cell = setup.dong_lo_cell if n % 3 else setup.bang_lung_cell
        start = TODAY - timedelta(days=demo.path_days(list(demo.PATH)) + 30 + n)
        steps = list(demo.PATH) if n % 4 else list(demo.PATH)[: 3 + n % 5]
        acts, on = [], start
        for step in steps:
            on += timedelta(days=step.after_days)
            data = step.data(world, cell, on)
            if refusals and n == 5 and step.event == "cell_vote":
                data["votes_for"] = 3  # a vote the records call passed: the rule says no
            if refusals and n == 7 and step.event == "assign_sponsors":
                data["sponsors"][0]["alongside_since"] = on.isoformat()  # too short
            acts.append(ReplayAct(step.event, on, data, actors[step.actor][cell]))
        nomination = demo.nomination(setup.rng, cell, start)
        nomination["person"]["youth_union_member"] = False
        nomination["person"]["full_name"] += f" {n}"
        nomination["person"]["national_id"] = None
        cases.append(CaseHistory(nomination, start, world.secretary[cell], acts, f"dòng {n}"))
    return cases


def one_by_one(engine: Engine, cases: list[CaseHistory]) -> list[bool]:
    """Each case inside its own SAVEPOINT, rolled back when an act is refused."""
    accepted = []
    with engine.session() as session:
        if engine.database.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        for case in cases:
            savepoint = session.begin_nested()
            try:
                outcome = engine.nominate(
                    case.nomination,
                    case.actor,
                    on=case.nominated_on,
                    note=case.note,
                    session=session,
                    imported=True,
                )
                case_id, version = outcome.case.id, outcome.case.version
                assert case_id is not None
                for act in case.acts:
                    moved = engine.advance(
                        case_id,
                        act.event,
                        act.data,
                        act.actor,
                        version,
                        on=act.on,
                        note=case.note,
                        session=session,
                        imported=True,
                    )
                    if moved.failed_vote is not None:
                        raise moved.failed_vote
                    version = moved.case.version
            except FAILURES:
                savepoint.rollback()
                accepted.append(False)
                continue
            savepoint.commit()
            accepted.append(True)
        session.commit()
    return accepted


def rows(setup: Setup) -> dict[str, list[tuple[str, ...]]]:
    dump: dict[str, list[tuple[str, ...]]] = {}
    with setup.engine.session() as session:
        for model in COMPARED:
            table = inspect(model).local_table
            query = select(table).order_by(*table.primary_key.columns)
            dump[table.name] = [tuple(repr(v) for v in row) for row in session.execute(query)]
        history = inspect(HistoryEvent).local_table
        columns = [c for c in history.columns if c.name != "id"]
        query = select(*columns).order_by(history.c.case_id, history.c.seq)
        dump["historyevent"] = [tuple(repr(v) for v in row) for row in session.execute(query)]
        stays = inspect(CaseStay).local_table
        columns = [c for c in stays.columns if c.name != "id"]
        query = select(*columns).order_by(stays.c.case_id, stays.c.left_on, stays.c.state)
        dump["case_stay"] = [tuple(repr(v) for v in row) for row in session.execute(query)]
        deadlines = inspect(CaseDeadline).local_table
        query = select(deadlines.c.case_id, deadlines.c.deadline, deadlines.c.due).order_by(
            deadlines.c.case_id, deadlines.c.deadline
        )
        dump["casedeadline"] = [tuple(repr(v) for v in row) for row in session.execute(query)]
    return dump


@pytest.fixture(params=BOTH)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Setup, Setup, str]]:
    (tmp_path / "one").mkdir()
    (tmp_path / "bulk").mkdir()
    with ExitStack() as stack:
        one = stack.enter_context(setup_on(request.param, request, tmp_path / "one"))
        bulk = stack.enter_context(setup_on(request.param, request, tmp_path / "bulk"))
        yield one, bulk, request.param


def test_bulk_replay_writes_what_one_by_one_acts_write(pair: tuple[Setup, Setup, str]) -> None:
    one, bulk, kind = pair
    # PostgreSQL sequences never give back the ids of a rolled-back case, and the two
    # paths take them differently: refused cases are compared on SQLite only
    refusals = kind == "sqlite"
    before = rows(bulk)
    assert rows(one) == before

    expected = one_by_one(one.engine, histories(one, refusals))
    results = bulk.engine.replay(histories(bulk, refusals))

    assert [r.accepted for r in results] == expected
    assert expected.count(False) == (2 if refusals else 0)
    if refusals:
        assert isinstance(results[5].error, Refusal) and results[5].error.rule == "two_thirds"
        assert results[5].step is not None
        assert histories(bulk, True)[5].acts[results[5].step].event == "cell_vote"
        assert isinstance(results[7].error, Refusal)
        assert results[7].error.rule == "sponsor_shared_time"
    after_one, after_bulk = rows(one), rows(bulk)
    for table, expected_rows in after_one.items():
        assert after_bulk[table] == expected_rows, table
    assert after_bulk["case"] != before["case"]
    with bulk.engine.session() as session:
        from workflow.history import chain, ledger

        assert chain.verify_all(session) == []
        assert ledger.verify(session).intact


def test_a_replay_inside_the_callers_transaction_is_rolled_back_with_it(
    sqlite_setup: Setup,
) -> None:
    cases = histories(sqlite_setup, refusals=False)[:3]
    before = sqlite_setup.counts()
    with sqlite_setup.engine.session() as session:
        results = sqlite_setup.engine.replay(cases, session=session)
        assert all(r.accepted for r in results)
        inside = session.execute(text('SELECT count(*) FROM "case"')).scalar()
        assert inside == before["Case"] + 3
        session.rollback()
    assert sqlite_setup.counts() == before


def test_a_replayed_case_is_refused_as_an_advance_would_be(sqlite_setup: Setup) -> None:
    case = histories(sqlite_setup, refusals=False)[1]
    wrong = CaseHistory(
        case.nomination,
        case.nominated_on,
        case.actor,
        [case.acts[1], *case.acts],  # pass_class before enrol_in_class
        case.note,
    )
    before = sqlite_setup.counts()
    [result] = sqlite_setup.engine.replay([wrong])
    assert isinstance(result.error, Refusal) and result.error.rule == "event_allowed"
    assert result.step == 0 and result.case_id is None
    assert sqlite_setup.counts() == before


def test_one_open_case_holds_within_a_replay_and_against_stored_cases(
    sqlite_setup: Setup,
) -> None:
    cases = histories(sqlite_setup, refusals=False)
    first, second = cases[4], cases[8]  # both left open along the way
    stored = sqlite_setup.engine.replay([first])
    assert stored[0].accepted
    again = CaseHistory(first.nomination, first.nominated_on, first.actor, [], "lại")
    twice = CaseHistory(second.nomination, second.nominated_on, second.actor, [], "hai")
    results = sqlite_setup.engine.replay([again, second, twice])
    assert [r.accepted for r in results] == [False, True, False]
    for refused in (results[0], results[2]):
        assert isinstance(refused.error, Refusal) and refused.error.rule == "one_open_case"
        assert refused.step is None


def tally(setup: Setup) -> dict[tuple[str, str], int]:
    """The kept counts of cases per cell and state (case_tally, kept by triggers on
    "case": the bulk replay's COPY on PostgreSQL fires them as its INSERTs did)."""
    with setup.engine.session() as session:
        kept = session.execute(text("SELECT org_path, state, n FROM case_tally WHERE n <> 0"))
        counted = session.execute(
            text('SELECT org_path, state, count(*) FROM "case" GROUP BY org_path, state')
        )
        found = {(path, state): n for path, state, n in kept}
        assert found == {(path, state): n for path, state, n in counted}
    return found


def awareness_class_of(setup: Setup, cell: int) -> int:
    """The awareness class the first replayed case of `cell` attends."""
    query = text(
        "SELECT course.id FROM course JOIN attendance ON attendance.course_id = course.id"
        ' JOIN "case" ON "case".id = attendance.case_id'
        " WHERE \"case\".cell_id = :cell AND course.kind = 'awareness'"
        ' ORDER BY "case".id LIMIT 1'
    )
    with setup.engine.session() as session:
        return int(session.execute(query, {"cell": cell}).scalar_one())


def by_class_id(setup: Setup, cases: list[CaseHistory]) -> list[CaseHistory]:
    """The same histories, their awareness class named by the id of a stored class."""
    named = []
    for case in cases:
        cell = case.nomination["cell_id"]
        acts = []
        for act in case.acts:
            data = act.data
            if act.event == "enrol_in_class":
                data = {k: v for k, v in data.items() if k != "class_name"}
                data["class_id"] = awareness_class_of(setup, cell)
            acts.append(ReplayAct(act.event, act.on, data, act.actor))
        named.append(CaseHistory(case.nomination, case.nominated_on, case.actor, acts, case.note))
    return named


def test_replays_in_two_calls_find_the_classes_the_first_stored(
    pair: tuple[Setup, Setup, str],
) -> None:
    """The second call reads the classes the first one wrote (by name in their period,
    and by id), as one-by-one acts read them; the case tally follows both writes. On
    PostgreSQL each call reserves its ids from the sequences in blocks, so the second
    call's ids differ from one-by-one acts': there the tally and the chains are checked."""
    one, bulk, kind = pair
    refusals = kind == "sqlite"
    first_one, second_one = histories(one, refusals)[:6], histories(one, refusals)[6:]
    first_bulk, second_bulk = histories(bulk, refusals)[:6], histories(bulk, refusals)[6:]
    expected = one_by_one(one.engine, first_one)
    assert [r.accepted for r in bulk.engine.replay(first_bulk)] == expected
    assert tally(bulk) == tally(one)

    half = len(second_one) // 2  # by name, then by the id of a stored class
    expected = one_by_one(one.engine, second_one[:half] + by_class_id(one, second_one[half:]))
    results = bulk.engine.replay(second_bulk[:half] + by_class_id(bulk, second_bulk[half:]))
    assert [r.accepted for r in results] == expected
    assert expected.count(True) >= 4
    assert tally(bulk) == tally(one)
    with bulk.engine.session() as session:
        from workflow.history import chain, ledger

        assert chain.verify_all(session) == []
        assert ledger.verify(session).intact
    if kind != "sqlite":
        return
    after_one, after_bulk = rows(one), rows(bulk)
    for table, expected_rows in after_one.items():
        assert after_bulk[table] == expected_rows, table


def test_a_class_named_by_a_missing_id_refuses_the_case_as_an_advance_would(
    sqlite_setup: Setup,
) -> None:
    case = histories(sqlite_setup, refusals=False)[1]
    acts = [
        ReplayAct(a.event, a.on, {**a.data, "class_id": 999_999}, a.actor)
        if a.event == "enrol_in_class"
        else a
        for a in case.acts
    ]
    before = sqlite_setup.counts()
    [result] = sqlite_setup.engine.replay(
        [CaseHistory(case.nomination, case.nominated_on, case.actor, acts, case.note)]
    )
    assert isinstance(result.error, InvalidData) and result.error.field == "class_id"
    assert case.acts[result.step or 0].event == "enrol_in_class"
    assert sqlite_setup.counts() == before
