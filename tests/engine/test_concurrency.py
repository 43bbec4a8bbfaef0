"""Racing writers: 8 threads advance one case with the same expected version at once.
Exactly one wins, the others get Conflict, and exactly one history row is added.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from tests.engine.conftest import TODAY, Setup
from workflow import history
from workflow.engine import Conflict, Outcome
from workflow.refusal import Refusal

RACERS = 8
ROUNDS = 10
# Acts a probationary member's case accepts again and again, so every round races afresh
EVENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("record_self_review", {}),
    ("complete_theory_class", {"class_name": "Lớp bồi dưỡng đảng viên mới", "certificate_no": "1"}),
)


def at_once(act: Callable[[int], Outcome]) -> list[Outcome | BaseException]:
    """Run `act(n)` in RACERS threads released together by a barrier; what each got."""
    barrier = threading.Barrier(RACERS)

    def racer(n: int) -> Outcome | BaseException:
        barrier.wait()
        try:
            return act(n)
        except BaseException as error:  # returned, so the test shows what each racer got
            return error

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(racer, range(RACERS)))


def race(setup: Setup, case_id: int, version: int) -> list[Outcome | BaseException]:
    secretary = setup.secretary(setup.case(case_id).cell_id)

    def advance(n: int) -> Outcome:
        event, data = EVENTS[n % len(EVENTS)]
        # each racer's own note: eight different acts (the same act sent eight times is
        # a double tap, answered once: test_the_same_act_sent_eight_times_is_recorded_once)
        return setup.engine.advance(
            case_id, event, data, secretary, version, on=TODAY, note=f"racer {n}"
        )

    return at_once(advance)


def one_wins_every_round(setup: Setup) -> None:
    case_id = setup.case_in("probationary", setup.dong_lo_cell, end=TODAY - timedelta(days=30))
    for _ in range(ROUNDS):
        version = setup.case(case_id).version
        rows = len(setup.history(case_id))
        results = race(setup, case_id, version)
        won = [r for r in results if isinstance(r, Outcome)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1, results
        assert len(lost) == RACERS - 1, results  # and nothing but Conflict
        assert all(r.expected == version and r.actual == version + 1 for r in lost)
        assert setup.case(case_id).version == version + 1
        assert len(setup.history(case_id)) == rows + 1
    with setup.engine.session() as session:
        assert history.verify_case(session, case_id).intact


@pytest.mark.postgres
def test_eight_racers_on_postgresql_one_wins_seven_conflict(postgres_setup: Setup) -> None:
    one_wins_every_round(postgres_setup)


def test_eight_racers_on_sqlite_one_wins_seven_conflict(sqlite_setup: Setup) -> None:
    one_wins_every_round(sqlite_setup)


def double_taps(setup: Setup) -> None:
    """The same act sent eight times at once from one version: one history row, and
    every sending answered with it (none told that someone else changed the case)."""
    case_id = setup.case_in("probationary", setup.dong_lo_cell, end=TODAY - timedelta(days=30))
    secretary = setup.secretary(setup.case(case_id).cell_id)
    for _ in range(3):
        version = setup.case(case_id).version
        rows = len(setup.history(case_id))
        results = at_once(
            partial(
                lambda seen, _n: setup.engine.advance(
                    case_id, "record_self_review", {}, secretary, seen, on=TODAY
                ),
                version,
            )
        )
        assert all(isinstance(r, Outcome) for r in results), results
        outcomes = [r for r in results if isinstance(r, Outcome)]
        assert {o.event.seq for o in outcomes} == {version + 1}
        assert sum(not o.repeated for o in outcomes) == 1
        assert setup.case(case_id).version == version + 1
        assert len(setup.history(case_id)) == rows + 1
    with setup.engine.session() as session:
        assert history.verify_case(session, case_id).intact


@pytest.mark.postgres
def test_the_same_act_sent_eight_times_is_recorded_once_on_postgresql(
    postgres_setup: Setup,
) -> None:
    double_taps(postgres_setup)


def test_the_same_act_sent_eight_times_is_recorded_once_on_sqlite(sqlite_setup: Setup) -> None:
    double_taps(sqlite_setup)


def nominate(setup: Setup, data: dict[str, Any], n: int) -> Outcome:
    # each racer's own note: eight nominations, not one sent eight times (that one is
    # answered once: test_one_nomination_sent_eight_times_opens_one_case_for_all)
    return setup.engine.nominate(
        data, setup.secretary(data["cell_id"]), on=TODAY, note=f"racer {n}"
    )


def nominations_race(setup: Setup) -> None:
    """A double click: 8 nominations of one person at once open exactly one case."""
    cell = setup.dong_lo_cell
    for _ in range(3):
        data = setup.nomination(cell, TODAY)
        before = setup.counts()
        results = at_once(partial(nominate, setup, data))
        won = [r for r in results if isinstance(r, Outcome)]
        lost = [r for r in results if not isinstance(r, Outcome)]
        assert len(won) == 1, results
        assert all(isinstance(r, Refusal) and r.rule == "one_open_case" for r in lost), lost
        after = setup.counts()
        assert after["Case"] == before["Case"] + 1
        assert after["HistoryEvent"] == before["HistoryEvent"] + 1


def nomination_double_taps(setup: Setup) -> None:
    """The same nomination sent eight times at once: one case, and every sending
    answered with it (not "already has an open case")."""
    data = setup.nomination(setup.dong_lo_cell, TODAY)
    before = setup.counts()
    secretary = setup.secretary(setup.dong_lo_cell)
    results = at_once(lambda _n: setup.engine.nominate(data, secretary, on=TODAY))
    assert all(isinstance(r, Outcome) for r in results), results
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len({o.case.id for o in outcomes}) == 1
    assert sum(not o.repeated for o in outcomes) == 1
    after = setup.counts()
    assert after["Case"] == before["Case"] + 1
    assert after["HistoryEvent"] == before["HistoryEvent"] + 1


@pytest.mark.postgres
def test_one_nomination_sent_eight_times_opens_one_case_for_all_on_postgresql(
    postgres_setup: Setup,
) -> None:
    nomination_double_taps(postgres_setup)


def test_one_nomination_sent_eight_times_opens_one_case_for_all_on_sqlite(
    sqlite_setup: Setup,
) -> None:
    nomination_double_taps(sqlite_setup)


@pytest.mark.postgres
def test_one_person_nominated_eight_times_at_once_on_postgresql_has_one_case(
    postgres_setup: Setup,
) -> None:
    nominations_race(postgres_setup)


def test_one_person_nominated_eight_times_at_once_on_sqlite_has_one_case(
    sqlite_setup: Setup,
) -> None:
    nominations_race(sqlite_setup)
