"""Random sequences of events, data, actors, versions and dates through the engine
(hypothesis stateful testing, on a SQLite file created once per run). Whatever comes
in, the engine answers with a result or one of its five errors, and:

* every case's state is one the process table can reach, by an edge of the table;
* every history chain verifies;
* history rows == accepted events + recorded failed votes + 1 (the nomination),
  and the case's version counts them;
* a refused act changes nothing (no table gains or loses a row, the version stays);
* terminal states accept nothing (every event is refused with `event_allowed`);
* the stored deadlines are the case's live deadlines.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from tests.engine.conftest import TODAY, Setup, Template, copy_sqlite, open_setup
from workflow import history, process
from workflow.access import Actor, Forbidden
from workflow.deadlines import live_deadlines
from workflow.engine import Conflict, NotFound, Outcome
from workflow.models import Case, CaseDeadline, Member, Person
from workflow.ops import demo
from workflow.process import FieldSpec
from workflow.refusal import Refusal
from workflow.schema import InvalidData

# Modest by default (the suite runs on 2 shared cores); raise it to hunt deeper
EXAMPLES = int(os.environ.get("KETNAP_PROPERTY_EXAMPLES", "15"))
ENGINE_ERRORS = (InvalidData, Refusal, Conflict, NotFound, Forbidden)
ADVANCED = [e.name for e in process.EVENTS if e.sources]
TERMINAL = {s.name for s in process.STATES if s.terminal}
VOTES = {e.name for e in process.EVENTS if e.vote_guard}
TYPICAL_GAP = {step.event: step.after_days for step in demo.PATH}


def reachable_states() -> set[str]:
    seen, frontier = {"nominated"}, ["nominated"]
    while frontier:
        state = frontier.pop()
        for event in process.allowed_events(state):
            target = event.target or state
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


REACHABLE = reachable_states()


def is_edge(event: str, source: str | None, target: str, outcome: str) -> bool:
    spec = process.event(event)
    assert spec is not None
    if spec is process.NOMINATE:
        return source is None and target == "nominated"
    if source not in spec.sources:
        return False
    if outcome == "failed_vote":
        return event in VOTES and target == source
    return target == (spec.target or source)


def next_steps() -> dict[str, str]:
    """State → the event of demo.PATH that leaves it (the committee's vote comes first)."""
    steps: dict[str, str] = {}
    for step in demo.PATH:
        spec = process.event(step.event)
        assert spec is not None
        for source in spec.sources:
            steps.setdefault(source, step.event)
    return steps


NEXT = next_steps()
PAPERS = (
    ("theory_class_on", "complete_theory_class"),
    ("self_review_on", "record_self_review"),
    ("helper_comment_on", "record_helper_comment"),
)


def forward_event(case: Any) -> str | None:
    """The event that moves `case` on along the procedure (None when it is closed)."""
    if case.state == "probationary":
        missing = [event for day, event in PAPERS if getattr(case, day) is None]
        return missing[0] if missing else "cell_confirm_vote"
    return NEXT.get(case.state)


# ── random data, from the field specs ─────────────────────────────────────
ISO_DATES = st.dates(date(1950, 1, 1), date(2030, 12, 31)).map(date.isoformat)
TEXT = st.text(max_size=12) | st.sampled_from(["NQ\x00", "\ud800", " ", "x" * 2001])


def value_of(spec: FieldSpec, ids: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    junk = st.none() | st.integers(-3, 3) | st.text(max_size=4)
    kind = spec.type
    if kind == "text":
        return TEXT | junk
    if kind == "date":
        return ISO_DATES | st.sampled_from(["2026-02-30", "hôm qua", "01/02/2026"]) | junk
    if kind == "int":
        return (
            st.integers(-2, 12) | st.sampled_from(["7", "bảy", "²", "--3", 2**40, 7.5, True]) | junk
        )
    if kind == "bool":
        return st.booleans() | junk
    if kind == "choice":
        return st.sampled_from(spec.choices) | junk
    if kind in ("member", "organisation"):
        return ids | junk
    if kind == "members":
        return st.lists(ids, max_size=3) | junk
    if kind == "object":
        return data_of(spec.parts, ids) | junk
    return st.lists(data_of(spec.parts, ids), max_size=3) | junk


def data_of(specs: tuple[FieldSpec, ...], ids: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """An event's data: every field drawn at random, some left out, sometimes an extra one."""
    fields = st.fixed_dictionaries({}, optional={s.name: value_of(s, ids) for s in specs})
    extra = st.dictionaries(st.sampled_from(["votes_against", "state", "version"]), st.integers())
    return st.one_of(fields, st.tuples(fields, extra).map(lambda pair: pair[0] | pair[1]))


# ── the machine ───────────────────────────────────────────────────────────
@dataclass
class Tracked:
    """What the model expects of a case."""

    accepted: int = 1  # the nomination
    failed_votes: int = 0
    last_on: date = TODAY


VOTE_COUNTS = st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n + 1)))
GAPS = st.sampled_from([0, 1, 5, 20, 45, 120, 400, -3])


class Procedure(RuleBasedStateMachine):
    template: Template
    directory: Path

    def __init__(self) -> None:
        super().__init__()
        where = Path(tempfile.mkdtemp(dir=self.directory))
        self.setup: Setup = open_setup(copy_sqlite(self.template, where), self.template.world)
        self.cases: dict[int, Tracked] = {}
        with self.setup.engine.session() as session:
            self.member_ids = list(session.exec(select(Member.id)))

    def teardown(self) -> None:
        self.setup.engine.database.dispose()

    # ── helpers ───────────────────────────────────────────────────────────
    @property
    def ids(self) -> st.SearchStrategy[int]:
        return st.sampled_from(self.member_ids + self.setup.world.cell_ids + [0, 10**6])

    def attempt(self, case_id: int | None, act: Any) -> Outcome | None:
        """Run one act; on an error prove that nothing changed."""
        setup = self.setup
        before = setup.counts()
        case = setup.case(case_id) if case_id is not None else None
        try:
            outcome: Outcome = act()
        except ENGINE_ERRORS:
            assert setup.counts() == before
            if case is not None:
                after = setup.case(case.id or 0)
                assert (after.version, after.state, after.cell_id) == (
                    case.version,
                    case.state,
                    case.cell_id,
                )
            return None
        if outcome.repeated:  # the same act sent again from a stale version: nothing new
            assert setup.counts() == before
            return None
        return outcome

    def record(self, case_id: int, event: str, before_state: str, outcome: Outcome | None) -> None:
        if outcome is None:
            return
        tracked = self.cases[case_id]
        if outcome.failed_vote is not None:
            assert event in VOTES and outcome.case.state == before_state
            tracked.failed_votes += 1
        else:
            spec = process.event(event)
            assert spec is not None
            assert outcome.case.state == (spec.target or before_state)
            tracked.accepted += 1
        tracked.last_on = outcome.event.on

    # ── rules ─────────────────────────────────────────────────────────────
    @initialize(cells=st.lists(st.integers(0, 4), min_size=1, max_size=2))
    def nominate_first(self, cells: list[int]) -> None:
        for n in cells:
            self.nominate(n, 900, False)

    @precondition(lambda self: len(self.cases) < 4)
    @rule(
        n=st.integers(0, 4),
        days_ago=st.sampled_from([0, 30, 400, 900]),
        again=st.sampled_from([False, False, True]),
    )
    def nominate(self, n: int, days_ago: int, again: bool) -> None:
        setup = self.setup
        cell = setup.world.cell_ids[n]
        on = TODAY - timedelta(days=days_ago)
        data = setup.nomination(cell, on)
        if again and self.cases:  # the same person as an earlier case
            first = setup.case(min(self.cases))
            with setup.engine.session() as session:
                person = session.get(Person, first.person_id)
                assert person is not None
                data["person"] |= {"full_name": person.full_name, "national_id": None}
                data["person"]["birth_date"] = person.birth_date.isoformat()
        outcome = self.attempt(
            None, lambda: setup.engine.nominate(data, setup.secretary(cell), on=on)
        )
        if outcome is not None:
            assert outcome.case.id is not None and outcome.case.state == "nominated"
            self.cases[outcome.case.id] = Tracked(last_on=on)

    @precondition(lambda self: bool(self.cases))
    @rule(data=st.data(), steps=st.integers(1, 6), votes=st.none() | VOTE_COUNTS)
    def step_forward(self, data: st.DataObject, steps: int, votes: tuple[int, int] | None) -> None:
        """The next steps of the procedure, as a cell would record them, to reach deep states."""
        setup = self.setup
        case_id = data.draw(st.sampled_from(sorted(self.cases)))
        for _ in range(steps):
            case = setup.case(case_id)
            event = forward_event(case)
            if event is None:
                return
            tracked = self.cases[case_id]
            on = tracked.last_on + timedelta(days=TYPICAL_GAP.get(event, 10))
            if event == "cell_confirm_vote" and case.probation_end:
                on = max(on, case.probation_end)
            on = min(on, TODAY)
            payload = setup.plausible_data(event, case.cell_id, on, case.state)
            actor = setup.actor_for(event, case.cell_id)
            if event in VOTES and votes is not None:
                payload |= {"voters": votes[0], "votes_for": votes[1]}
            advance = partial(
                setup.engine.advance, case_id, event, payload, actor, case.version, on=on
            )
            outcome = self.attempt(case_id, advance)
            self.record(case_id, event, case.state, outcome)
            if outcome is None:
                return

    @precondition(lambda self: bool(self.cases))
    @rule(
        data=st.data(),
        gap=GAPS,
        wrong_actor=st.sampled_from([False] * 6 + [True]),
        stale=st.sampled_from([0] * 8 + [-1, 1]),
    )
    def advance_plausibly(
        self, data: st.DataObject, gap: int, wrong_actor: bool, stale: int
    ) -> None:
        """Mostly an event the state allows, with the data a secretary would record."""
        setup = self.setup
        case_id = data.draw(st.sampled_from(sorted(self.cases)))
        case = setup.case(case_id)
        allowed = [e.name for e in process.allowed_events(case.state)]
        event = data.draw(
            st.sampled_from(allowed) if allowed and gap >= 0 else st.sampled_from(ADVANCED)
        )
        tracked = self.cases[case_id]
        on = min(TODAY, tracked.last_on + timedelta(days=max(gap, TYPICAL_GAP.get(event, gap))))
        if gap < 0:
            on = TODAY + timedelta(days=-gap)  # in the future
        payload = setup.plausible_data(event, case.cell_id, on, case.state)
        if event in VOTES and data.draw(st.booleans()):
            voters = data.draw(st.integers(3, 12))
            payload |= {"voters": voters, "votes_for": data.draw(st.integers(0, voters))}
        actor = setup.actor_for(event, case.cell_id)
        if wrong_actor:
            actor = data.draw(st.sampled_from(self.strangers(case.cell_id)))
        outcome = self.attempt(
            case_id,
            lambda: setup.engine.advance(
                case_id, event, payload, actor, case.version + stale, on=on.isoformat()
            ),
        )
        self.record(case_id, event, case.state, outcome)

    @precondition(lambda self: bool(self.cases))
    @rule(data=st.data(), on=st.dates(date(2023, 1, 1), TODAY + timedelta(days=3)))
    def advance_with_random_data(self, data: st.DataObject, on: date) -> None:
        """Any event, any data: the engine answers or refuses, never crashes."""
        setup = self.setup
        case_id = data.draw(st.sampled_from(sorted(self.cases)))
        case = setup.case(case_id)
        event = data.draw(st.sampled_from([*ADVANCED, "vote_twice"]))
        spec = process.event(event)
        payload = data.draw(data_of(spec.fields if spec else (), self.ids))
        actor = setup.actor_for(event, case.cell_id) if spec else setup.secretary(case.cell_id)
        outcome = self.attempt(
            case_id,
            lambda: setup.engine.advance(case_id, event, payload, actor, case.version, on=on),
        )
        self.record(case_id, event, case.state, outcome)

    @precondition(lambda self: any(self.setup.case(c).state in TERMINAL for c in self.cases))
    @rule(data=st.data())
    def terminal_states_accept_nothing(self, data: st.DataObject) -> None:
        setup = self.setup
        closed = [c for c in sorted(self.cases) if setup.case(c).state in TERMINAL]
        case_id = data.draw(st.sampled_from(closed))
        case = setup.case(case_id)
        before = setup.counts()
        for event in ADVANCED:
            payload = setup.plausible_data(event, case.cell_id, TODAY, case.state)
            actor = setup.actor_for(event, case.cell_id)
            with pytest.raises(Refusal) as raised:
                setup.engine.advance(case_id, event, payload, actor, case.version, on=TODAY)
            assert raised.value.rule == "event_allowed"
        assert setup.counts() == before

    def strangers(self, cell: int) -> list[Actor]:
        world = self.setup.world
        others = [world.secretary[c] for c in world.cell_ids if c != cell]
        return [
            *others,
            Actor("auditor", "auditor", None, "/"),
            Actor("sponsor", "sponsor", cell, "", member_id=world.officials[cell][0]),
            world.committee_officer[cell],
        ]

    # ── invariants ────────────────────────────────────────────────────────
    @invariant()
    def every_case_keeps_its_invariants(self) -> None:
        setup = self.setup
        with setup.engine.session() as session:
            for case_id, tracked in self.cases.items():
                case = session.get(Case, case_id)
                assert case is not None
                assert case.state in process.STATE_NAMES and case.state in REACHABLE
                assert case.open == (case.state not in TERMINAL)
                check = history.verify_case(session, case_id)
                assert check.intact, check
                rows = history.rows_of(session, case_id)
                assert len(rows) == tracked.accepted + tracked.failed_votes == case.version
                assert sum(r.outcome == "failed_vote" for r in rows) == tracked.failed_votes
                assert rows[-1].to_state == case.state
                for row in rows:
                    assert is_edge(row.event, row.from_state, row.to_state, row.outcome), row
                stored = session.exec(select(CaseDeadline).where(CaseDeadline.case_id == case_id))
                assert {d.deadline: d.due for d in stored} == live_deadlines(
                    case, setup.engine.params
                )


def test_random_sequences_of_events_keep_the_invariants(
    sqlite_template: Template, tmp_path: Path
) -> None:
    class Run(Procedure):
        template = sqlite_template
        directory = tmp_path

    run_state_machine_as_test(
        Run,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
