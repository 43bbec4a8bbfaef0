"""The benchmark data is what the engine would have left: deadlines, next_due, history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from bench import datagen
from tests.perf.conftest import TODAY
from tests.support.postgres import create_database, drop_database
from workflow import db, history, process
from workflow.access import Actor
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.deadlines import live_deadlines
from workflow.engine import Engine
from workflow.models import Case, CaseDeadline, HistoryEvent, Member, Person


def check_dataset(url: str, cases: int) -> None:
    database = db.connect(url)
    try:
        with Session(database) as session:
            stored: dict[int, dict[str, object]] = {}
            for row in session.exec(select(CaseDeadline)):
                stored.setdefault(row.case_id, {})[row.deadline] = row.due
            for case in session.exec(select(Case)):
                assert case.id is not None
                wanted = live_deadlines(case, RuleParameters())
                assert stored.get(case.id, {}) == wanted, case.id
                assert case.next_due == (min(wanted.values()) if wanted else None)
                assert case.open == (case.state in process.OPEN_STATES)
            assert history.verify_all(session) == []
            versions = dict(session.exec(select(Case.id, Case.version)).all())
            counted = dict(
                session.exec(
                    select(HistoryEvent.case_id, func.count()).group_by(HistoryEvent.case_id)
                ).all()
            )
            assert counted == versions
            states = set(session.exec(select(Case.state).distinct()).all())
            assert states == set(process.STATE_NAMES)
            probationary = session.exec(
                select(func.count())
                .select_from(Case)
                .join(Member, col(Member.id) == Case.member_id)
                .where(Case.state == "probationary", Member.status == "probationary")
            ).one()
            assert (
                probationary
                == session.exec(
                    select(func.count()).select_from(Case).where(Case.state == "probationary")
                ).one()
            )
            assert session.exec(select(func.count()).select_from(Person)).one() == cases
    finally:
        database.dispose()


def test_generated_sqlite_data_is_what_the_engine_would_have_left(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    datagen.generate(url, 2000, TODAY, grassroots=3, progress=lambda _m: None)
    check_dataset(url, 2000)


@pytest.mark.postgres
def test_generated_postgres_data_is_consistent_and_the_engine_continues_after_it() -> None:
    url = create_database()
    try:
        datagen.generate(url, 1000, TODAY, grassroots=2, progress=lambda _m: None)
        check_dataset(url, 1000)
        engine = Engine(db.connect(url), RuleParameters(), FixedClock.on(TODAY))
        try:
            with engine.session() as session:
                case = session.exec(select(Case).where(Case.state == "probationary")).first()
                assert case is not None and case.id is not None
                version, case_id = case.version, case.id
            officer = Actor("officer-tinh", "officer", 1, "/1/")
            engine.advance(case_id, "record_self_review", {}, officer, version, on=TODAY)
            with engine.session() as session:
                assert history.verify_case(session, case_id).intact
        finally:
            engine.database.dispose()
    finally:
        drop_database(url)
