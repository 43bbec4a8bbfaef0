"""Stays (workflow/stays.py): each state a case leaves is written with its length in days
and working days, by the engine beside the history row that ends it — and the history
alone tells the same stays (`rebuild`), transfers and failed votes included."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from tests.engine.conftest import TODAY, Setup
from workflow import rules, stays
from workflow.models import CaseStay, HistoryEvent, Organisation
from workflow.ops import demo


def _stays(setup: Setup) -> list[tuple[object, ...]]:
    table = inspect(CaseStay).local_table
    columns = [c for c in table.columns if c.name != "id"]
    with setup.engine.session() as session:
        query = select(*columns).order_by(table.c.case_id, table.c.left_on, table.c.state)
        return [tuple(row) for row in session.execute(query)]


def test_each_state_left_is_a_stay_as_long_as_its_history_says(setup: Setup) -> None:
    case_id = setup.case_in("probationary")
    with setup.engine.session() as session:
        history = session.scalars(
            select(HistoryEvent).where(HistoryEvent.case_id == case_id).order_by(HistoryEvent.seq)
        ).all()
    moves = [h for h in history if h.from_state is not None and h.from_state != h.to_state]
    written = [s for s in _stays(setup) if s[0] == case_id]
    assert [(s[2], s[5], s[6]) for s in written] == [
        (h.from_state, h.event, h.to_state) for h in moves
    ]
    entries = [history[0].on, *(h.on for h in moves[:-1])]
    for stay, entered, move in zip(written, entries, moves, strict=True):
        assert (stay[3], stay[4]) == (entered, move.on)
        assert stay[7] == (move.on - entered).days
        assert stay[8] == rules.working_days_between(entered, move.on)
    assert setup.case(case_id).state_since == moves[-1].on


def test_the_history_alone_tells_the_written_stays(setup: Setup) -> None:
    """A transfer (the stay belongs to the cell that held the case when it left) and
    cases closed early: rebuilt from the history, the stays are the written ones."""
    moved_on = TODAY - timedelta(days=200)
    moved = setup.case_in("class_passed", end=moved_on)
    neighbour = setup.bang_lung_cell
    secretary = setup.secretary(setup.dong_lo_cell)
    setup.advance(moved, "transfer", {"to_cell_id": neighbour}, secretary, moved_on)
    steps = demo.steps_to("cell_resolved")[len(demo.steps_to("class_passed")) :]
    demo.walk(setup.engine, setup.world, moved, neighbour, moved_on, steps)
    setup.case_in("verified")
    withdrawn = setup.case_in("sponsored", setup.bang_lung_cell)
    reason = {"reason": "Chuyển công tác"}
    setup.advance(withdrawn, "withdraw", reason, setup.secretary(neighbour), TODAY)
    written = _stays(setup)
    with setup.engine.session() as session:
        neighbour_path = session.get_one(Organisation, neighbour).path
    held = [s[1] for s in written if s[0] == moved]
    assert neighbour_path in held and held[0] != neighbour_path
    assert [s[2] for s in written if s[0] == withdrawn][-1] == "sponsored"
    with setup.engine.database.engine.begin() as connection:
        assert stays.rebuild(connection) == len(written)
    assert _stays(setup) == written


@given(
    st.dates(date(1990, 1, 1), date(2060, 12, 31)),
    st.integers(min_value=0, max_value=800),
)
def test_working_days_between_counts_as_deadlines_add_them(start: date, count: int) -> None:
    end = rules.add_working_days(start, count)
    assert rules.working_days_between(start, end) == count
    later = start + timedelta(days=count)
    naive = sum(rules.is_working_day(start + timedelta(n)) for n in range(1, count + 1))
    assert rules.working_days_between(start, later) == naive


def test_a_stay_over_tet_counts_its_holidays_out() -> None:
    # Tết 2026: 16–20 February off (the holidays package's Vietnam calendar).
    stay = stays.stay(1, "/1/", "in_class", date(2026, 2, 13), date(2026, 2, 23), "x", "y")
    assert (stay["days"], stay["working_days"]) == (10, 1)


def test_the_stays_migration_derives_the_stays_the_engine_wrote(setup: Setup) -> None:
    """A database from before stays (0010) gains, on upgrade, the very stays the engine
    would have written: downgraded past 0011 and upgraded again, nothing differs."""
    from alembic import command

    from workflow import db

    setup.case_in("probationary")
    setup.case_in("in_class", setup.bang_lung_cell)
    written = _stays(setup)
    assert written
    database = setup.engine.database.engine
    config = db.alembic_config(database)
    with database.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010_scale")
    db.migrate(database)
    assert _stays(setup) == written
