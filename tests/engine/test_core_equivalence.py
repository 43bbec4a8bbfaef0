"""The engine on SQLAlchemy Core does what the ORM engine did, byte for byte.

The same script of acts — every event of the process, refusals, failed votes, an
extension, a transfer, a class joined twice — runs on two copies of one database: one
through the engine as it was before its write path moved to Core (tests/engine/legacy,
kept verbatim but for its ORM effects), one through today's engine. Afterwards every
row the engine writes must be the same in both: cases, deadlines, history (so every
hash), the ledger, persons, members, sponsorships, helpers, classes and attendance;
and every refused act must be refused by the same rule, writing nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select

from tests.engine.conftest import BOTH, TODAY, Setup, setup_on
from tests.engine.legacy.engine import Engine as LegacyEngine
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.models import (
    Attendance,
    Case,
    CaseDeadline,
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

WRITTEN = (
    Case,
    CaseDeadline,
    HistoryEvent,
    LedgerEntry,
    Person,
    Member,
    Sponsorship,
    HelperAssignment,
    Course,
    Attendance,
)
STEPS = {step.event: step for step in demo.PATH}
START = TODAY - timedelta(days=700)


@dataclass(frozen=True)
class Act:
    """One act of the script: on the case named `case`, `days` after START."""

    case: str
    event: str
    days: int
    data: Callable[[demo.World, int], dict[str, Any]] | None = None  # None: demo.PATH's
    cell: str = "dong_lo"
    refused: str | None = None  # the rule expected to refuse it
    version_offset: int = 0  # a stale version: a Conflict


def _path(case: str, days: int, events: list[str], cell: str = "dong_lo") -> list[Act]:
    acts, on = [], days
    for event in events:
        on += STEPS[event].after_days
        acts.append(Act(case, event, on, cell=cell))
    return acts


def _with(**values: Any) -> Callable[[demo.World, int], dict[str, Any]]:
    return lambda world, cell: values


MAIN = [step.event for step in demo.PATH]


def script() -> list[Act]:
    """Every event of the process, the refusals, votes that fail, extensions, transfers."""
    acts = [
        # A: the whole path, with a failed cell vote, an extension, a transfer and a
        # failed confirmation vote on the way
        *_path("A", 0, MAIN[:5]),
        Act("A", "cell_vote", 175, _with(voters=9, votes_for=5, resolution_ref="NQ-1")),
        Act("A", "cell_vote", 176, cell="dong_lo"),
        *_path("A", 176, MAIN[6:8]),
        Act(
            "A",
            "grant_extension",
            240,
            _with(deadline="ceremony", working_days=10, consent_ref="45-CV/TU"),
        ),
        Act(
            "A",
            "grant_extension",
            241,
            _with(deadline="ceremony", working_days=10, consent_ref="46-CV/TU"),
        ),
        Act("A", "hold_ceremony", 250),
        Act("A", "transfer", 260, lambda world, cell: {"to_cell_id": world.cell_ids[1]}),
        Act("A", "complete_theory_class", 380, cell="neighbour"),
        Act("A", "record_self_review", 590, cell="neighbour"),
        Act(
            "A",
            "record_helper_comment",
            595,
            lambda world, cell: {
                "helper_id": world.officials[world.cell_ids[0]][0],
                "comment": "Gương mẫu, nhiệt tình.",
            },
            cell="neighbour",
        ),
        Act(
            "A",
            "cell_confirm_vote",
            636,
            _with(voters=9, votes_for=4, resolution_ref="NQ-CT-1"),
            cell="neighbour",
        ),
        Act("A", "cell_confirm_vote", 637, cell="neighbour"),
        Act("A", "committee_confirm_vote", 650, cell="neighbour"),
        Act("A", "confirm", 665, cell="neighbour"),
        # B: fails the class, enrols again in the same class earlier in the month (the
        # class's start moves back), then is rejected; refusals on the way
        Act("B", "enrol_in_class", 22),
        Act("F", "enrol_in_class", 20),
        Act("B", "fail_class", 40, _with(reason="Vắng quá số buổi quy định")),
        Act("B", "enrol_in_class", 41),
        Act(
            "B",
            "correct_particulars",
            42,
            _with(person={"full_name": "Nguyễn Thị Hoà Bình"}, reason="Sai chính tả"),
        ),
        Act("B", "pass_class", 35, refused="certificate_after_class"),
        Act("B", "confirm", 60, refused="event_allowed"),
        Act("B", "pass_class", 60, version_offset=-1, refused="conflict"),
        Act("B", "pass_class", 60),
        Act("B", "reject", 70, _with(by="committee", reason="Không đủ tiêu chuẩn")),
        # C: withdrawn at once
        Act("C", "withdraw", 5, _with(reason="Chuyển công tác ra khỏi địa phương")),
        # D: a cell whose committee may not admit: the province decides; then removed
        *_path("D", 10, MAIN[:7], cell="bang_lung"),
        Act("D", "decide_admission", 205, cell="bang_lung"),
        Act("D", "hold_ceremony", 215, cell="bang_lung"),
        Act("D", "cell_confirm_vote", 400, cell="bang_lung", refused="probation_over"),
        Act(
            "D",
            "remove",
            420,
            _with(decision_no="3-QĐ/ĐU", reason="Vi phạm tư cách đảng viên"),
            cell="bang_lung",
        ),
        # E: three failed confirmation votes escalate the case
        *_path("E", 0, MAIN[:12]),
        *(
            Act(
                "E",
                "cell_confirm_vote",
                640 + n,
                _with(voters=9, votes_for=3, resolution_ref=f"NQ-{n}"),
            )
            for n in range(3)
        ),
    ]
    return acts


class Runner:
    """Runs the script on one engine, telling what each act did."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.cases: dict[str, int] = {}
        self.cells = {
            "dong_lo": setup.dong_lo_cell,
            "bang_lung": setup.bang_lung_cell,
            "neighbour": setup.world.cell_ids[1],
        }

    def run(self, acts: list[Act]) -> list[str]:
        told = []
        for act in acts:
            told.append(self.act(act))
        return told

    def act(self, act: Act) -> str:
        cell = self.cells[act.cell]
        if act.case not in self.cases:
            nominated = START + timedelta(days=min(a.days for a in script() if a.case == act.case))
            nominated -= timedelta(days=25)
            data = demo.nomination(self.setup.rng, cell, nominated)
            data["person"]["youth_union_member"] = False
            outcome = self.setup.engine.nominate(
                data, self.setup.secretary(cell), on=nominated.isoformat(), note="lần đầu"
            )
            assert outcome.case.id is not None
            self.cases[act.case] = outcome.case.id
        case_id = self.cases[act.case]
        on = START + timedelta(days=act.days)
        data = (
            act.data(self.setup.world, cell)
            if act.data
            else STEPS[act.event].data(self.setup.world, cell, on)
        )
        version = self.setup.case(case_id).version + act.version_offset
        try:
            outcome = self.setup.engine.advance(
                case_id,
                act.event,
                data,
                self.setup.actor_for(act.event, cell),
                version,
                on=on.isoformat(),
            )
        except Refusal as refusal:
            assert refusal.rule == act.refused, (act, refusal)
            return f"{act.case} {act.event}: refused by {refusal.rule}"
        except Exception as error:  # a Conflict: compared by its name and message
            assert act.refused == "conflict", (act, error)
            return f"{act.case} {act.event}: {type(error).__name__} {error}"
        assert act.refused is None, act
        return (
            f"{act.case} {act.event}: {outcome.case.state} v{outcome.case.version} "
            f"{outcome.event.hash} failed={outcome.failed_vote is not None}"
        )


def rows(setup: Setup) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the engine writes, every column, in key order, as their reprs."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with setup.engine.session() as session:
        for model in WRITTEN:
            table = inspect(model).local_table
            keys = list(table.primary_key.columns)
            result = session.execute(select(table).order_by(*keys))
            dump[table.name] = [tuple(repr(value) for value in row) for row in result]
    return dump


@pytest.fixture(params=BOTH)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Setup, Setup]]:
    """Two copies of the demo tree: one for the legacy engine, one for today's."""
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    with ExitStack() as stack:
        old = stack.enter_context(setup_on(request.param, request, tmp_path / "old"))
        new = stack.enter_context(setup_on(request.param, request, tmp_path / "new"))
        old.engine = LegacyEngine(old.engine.database, RuleParameters(), FixedClock.on(TODAY))  # type: ignore[assignment]
        yield old, new


def test_core_engine_writes_what_the_orm_engine_wrote(pair: tuple[Setup, Setup]) -> None:
    old, new = pair
    acts = script()
    events = {act.event for act in acts}
    assert events >= {*MAIN, "fail_class", "reject", "withdraw", "remove", "transfer"}
    assert events >= {"grant_extension"}
    before = rows(new)
    assert rows(old) == before  # the same start

    told_old = Runner(old).run(acts)
    told_new = Runner(new).run(acts)

    assert told_new == told_old
    assert any("refused by" in line for line in told_new)
    assert any("failed=True" in line for line in told_new)
    after_old, after_new = rows(old), rows(new)
    for table in after_old:
        assert after_new[table] == after_old[table], table
    assert after_new != before
    # the script reached what it is for: an escalated case, a transfer, a removal
    cases = {row[0]: row for row in after_new["case"]}
    assert len(cases) == len(before["case"]) + 6


def test_the_script_covers_every_event() -> None:
    from workflow import process

    covered = {act.event for act in script()}
    assert covered == {event.name for event in process.EVENTS} - {"nominate"}


def test_dates_of_the_script_are_not_in_the_future() -> None:
    assert max(START + timedelta(days=act.days) for act in script()) <= TODAY
    assert isinstance(START, date)
