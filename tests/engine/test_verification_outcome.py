"""The background verification records only the conclusion it leads on from ("meets the
standards"); a candidate who does not meet them is rejected, the rejection naming that
ground. Histories recorded before keep their `conclusion` and still verify and replay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.engine.conftest import TODAY, Setup
from workflow import history, process
from workflow.history import replay
from workflow.models import HistoryEvent, Person
from workflow.schema import InvalidData

SENT = (TODAY - timedelta(days=20)).isoformat()


def _rows(setup: Setup, case_id: int) -> list[HistoryEvent]:
    with setup.engine.session() as session:
        return list(
            session.exec(
                select(HistoryEvent)
                .where(HistoryEvent.case_id == case_id)
                .order_by(HistoryEvent.seq)  # type: ignore[arg-type]
            )
        )


def _verifies_and_replays(setup: Setup, case_id: int) -> None:
    case = setup.case(case_id)
    with setup.engine.session() as session:
        assert history.verify_case(session, case_id).intact
        person = session.get(Person, case.person_id)
        assert person is not None
        rows = list(
            session.exec(
                select(HistoryEvent)
                .where(HistoryEvent.case_id == case_id)
                .order_by(HistoryEvent.seq)  # type: ignore[arg-type]
            )
        )
        assert replay.disagreements(replay.expected(rows), case, person) == []


def test_the_verification_offers_no_conclusion_it_would_refuse() -> None:
    spec = process.event("verify_background")
    assert spec is not None
    conclusion = next(f for f in spec.fields if f.name == "conclusion")
    assert conclusion.choices == ("meets_standards",)
    assert not conclusion.required and conclusion.default == "meets_standards"
    reject = process.event("reject")
    assert reject is not None and "dossier_complete" in reject.sources
    ground = next(f for f in reject.fields if f.name == "ground")
    assert ground.choices == ("background_does_not_meet",) and not ground.required
    assert str(process.choice_label("background_does_not_meet", "vi")).startswith(
        "Kết luận thẩm tra lý lịch"
    )


@pytest.mark.parametrize("sent", [{}, {"conclusion": "meets_standards"}])
def test_a_verification_records_meets_the_standards_as_before(
    setup: Setup, sent: dict[str, str]
) -> None:
    """Without a conclusion (the form) or with the one older clients send, the row holds
    conclusion = meets_standards, as every row recorded before does."""
    case_id = setup.case_in("dossier_complete")
    cell = setup.case(case_id).cell_id
    data = {"requests_sent_on": SENT, **sent}
    setup.advance(case_id, "verify_background", data, setup.secretary(cell), TODAY)
    assert setup.case(case_id).state == "verified"
    assert json.loads(_rows(setup, case_id)[-1].data)["conclusion"] == "meets_standards"
    _verifies_and_replays(setup, case_id)


def test_does_not_meet_is_no_longer_a_verification(sqlite_setup: Setup) -> None:
    setup = sqlite_setup
    case_id = setup.case_in("dossier_complete")
    before = setup.case(case_id)
    data = {"requests_sent_on": SENT, "conclusion": "does_not_meet"}
    with pytest.raises(InvalidData) as invalid:
        setup.advance(case_id, "verify_background", data, setup.secretary(before.cell_id), TODAY)
    assert invalid.value.field == "conclusion"
    assert setup.case(case_id).version == before.version  # nothing written


def test_a_candidate_who_does_not_meet_the_standards_is_rejected_on_that_ground(
    setup: Setup,
) -> None:
    case_id = setup.case_in("dossier_complete")
    cell = setup.case(case_id).cell_id
    data = {
        "by": "cell",
        "ground": "background_does_not_meet",
        "reason": "Công văn thẩm tra: chưa rõ lịch sử chính trị",
    }
    setup.advance(case_id, "reject", data, setup.secretary(cell), TODAY)
    assert setup.case(case_id).state == "rejected"
    assert json.loads(_rows(setup, case_id)[-1].data)["ground"] == "background_does_not_meet"
    _verifies_and_replays(setup, case_id)
