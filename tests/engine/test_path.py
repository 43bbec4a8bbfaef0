"""The procedure end to end through the engine, on SQLite and on a real PostgreSQL:
nominate → official, → removed, the direct decision where the grassroots committee
admits, failed votes, escalation, transfer, extensions, and tampering with history.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from cli.main import main
from tests.engine.conftest import TODAY, Setup
from tests.history.tamper import tamper as history_tamper
from workflow import history, rules
from workflow.engine import NotFound
from workflow.models import CaseDeadline
from workflow.ops import demo
from workflow.refusal import Refusal


def deadlines(setup: Setup, case_id: int) -> dict[str, date]:
    with setup.engine.session() as session:
        rows = session.exec(select(CaseDeadline).where(CaseDeadline.case_id == case_id))
        return {row.deadline: row.due for row in rows}


def assert_history_whole(setup: Setup, case_id: int, rows: int) -> None:
    trail = setup.history(case_id)
    assert [row.seq for row in trail] == list(range(1, rows + 1))
    assert setup.case(case_id).version == rows
    with setup.engine.session() as session:
        check = history.verify_case(session, case_id)
    assert check.intact and check.rows == rows, check


@pytest.mark.parametrize("committee", ["dong_lo", "bang_lung"])
def test_whole_path_from_nominate_to_official(setup: Setup, committee: str) -> None:
    cell = setup.dong_lo_cell if committee == "dong_lo" else setup.bang_lung_cell
    start = TODAY - timedelta(days=demo.path_days(list(demo.PATH)) + 3)
    case = setup.nominate(cell, start)
    assert case.id is not None and case.state == "nominated" and case.version == 1

    to_probation = demo.steps_to("probationary")
    ceremony = demo.walk(setup.engine, setup.world, case.id, cell, start, to_probation)
    probationary = setup.case(case.id)
    assert probationary.state == "probationary"
    assert probationary.ceremony_on == ceremony
    assert probationary.probation_end == rules.add_months(ceremony, 12)
    assert probationary.member_id is not None
    member = setup.member(probationary.member_id)
    assert member.status == "probationary"
    assert member.cell_id == cell
    assert member.joined_on == probationary.decision_on  # seniority from the decision
    assert probationary.decision_on is not None and probationary.decision_on < ceremony

    rest = list(demo.PATH[len(to_probation) :])
    confirmed = demo.walk(setup.engine, setup.world, case.id, cell, ceremony, rest)
    official = setup.case(case.id)
    assert official.state == "official"
    assert official.probation_end is not None and confirmed > official.probation_end
    assert official.official_on == official.probation_end  # not the decision's date
    assert not official.open and official.closed_on == confirmed
    member = setup.member(probationary.member_id)
    assert member.status == "official"
    assert member.official_since == official.probation_end
    assert member.joined_on == official.decision_on

    assert_history_whole(setup, case.id, 1 + len(demo.PATH))
    trail = setup.history(case.id)
    assert [row.event for row in trail] == ["nominate"] + [step.event for step in demo.PATH]
    assert all(row.outcome == "accepted" for row in trail)
    assert trail[-1].to_state == "official" and trail[0].from_state is None
    assert deadlines(setup, case.id) == {}
    assert official.next_due is None


def test_path_to_removed(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("probationary", cell, end=TODAY - timedelta(days=30))
    member_id = setup.case(case_id).member_id
    assert member_id is not None
    outcome = setup.advance(
        case_id,
        "remove",
        {"decision_no": "12-QĐ/ĐU", "reason": "Vi phạm tư cách đảng viên"},
        setup.world.authority_officer[cell],
        TODAY,
    )
    removed = outcome.case
    assert removed.state == "removed" and not removed.open and removed.closed_on == TODAY
    assert setup.member(member_id).status == "removed"
    assert deadlines(setup, case_id) == {}
    assert_history_whole(setup, case_id, 1 + len(demo.steps_to("probationary")) + 1)
    with pytest.raises(Refusal) as raised:
        setup.advance(
            case_id, "confirm", {"decision_no": "1"}, setup.world.authority_officer[cell], TODAY
        )
    assert raised.value.rule == "event_allowed"


def test_direct_decision_where_the_grassroots_committee_may_admit(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("cell_resolved", cell, end=TODAY - timedelta(days=5))
    outcome = setup.advance(
        case_id,
        "decide_admission",
        {"decision_no": "88-QĐ/ĐU", "received_on": (TODAY - timedelta(days=1)).isoformat()},
        setup.world.authority_officer[cell],
        TODAY - timedelta(days=2),
    )
    decided = outcome.case
    assert decided.state == "admission_decided"
    assert decided.decision_on == TODAY - timedelta(days=2)
    assert decided.decision_received_on == TODAY - timedelta(days=1)
    assert deadlines(setup, case_id) == {
        "ceremony": rules.add_working_days(TODAY - timedelta(days=1), 30)
    }


def test_direct_decision_refused_where_the_grassroots_committee_may_not_admit(
    setup: Setup,
) -> None:
    cell = setup.bang_lung_cell
    case_id = setup.case_in("cell_resolved", cell, end=TODAY - timedelta(days=5))
    before = setup.counts()
    with pytest.raises(Refusal) as raised:
        setup.advance(
            case_id,
            "decide_admission",
            {"decision_no": "88-QĐ/TU"},
            setup.world.authority_officer[cell],
            TODAY,
        )
    assert raised.value.rule == "committee_may_admit"
    assert "Đảng ủy cơ sở phải biểu quyết" in raised.value.message_vi
    assert setup.counts() == before
    assert setup.case(case_id).state == "cell_resolved"


def test_direct_confirmation_where_the_grassroots_committee_may_admit(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("confirmation_cell_resolved", cell, end=TODAY - timedelta(days=1))
    outcome = setup.advance(
        case_id, "confirm", {"decision_no": "5-QĐ/ĐU"}, setup.world.authority_officer[cell], TODAY
    )
    assert outcome.case.state == "official"
    assert outcome.case.official_on == outcome.case.probation_end


def test_dates_may_come_as_date_times_from_a_spreadsheet(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    noon = datetime.combine(TODAY - timedelta(days=3), time(12, 0))
    data = setup.nomination(cell, noon.date(), birth_date=datetime(2001, 5, 17))
    outcome = setup.engine.nominate(data, setup.secretary(cell), on=noon)
    assert outcome.case.nominated_on == noon.date()
    assert outcome.event.on == noon.date()
    assert '"birth_date":"2001-05-17"' in outcome.event.data
    assert_history_whole(setup, outcome.case.id or 0, 1)


def test_a_paper_of_probation_may_be_recorded_late(setup: Setup) -> None:
    """Acts within a state keep their own dates: the theory class, recorded after the
    self-review, may be dated before it, but nothing may predate the ceremony."""
    cell = setup.dong_lo_cell
    case_id = setup.case_in("probationary", cell, end=TODAY - timedelta(days=200))
    ceremony = setup.case(case_id).ceremony_on
    assert ceremony is not None
    secretary = setup.secretary(cell)
    setup.advance(case_id, "record_self_review", {}, secretary, TODAY - timedelta(days=10))
    theory = {"class_name": "Lớp bồi dưỡng đảng viên mới", "certificate_no": "LL-7"}
    late = setup.advance(
        case_id, "complete_theory_class", theory, secretary, ceremony + timedelta(days=90)
    )
    assert late.case.theory_class_on == ceremony + timedelta(days=90)
    with pytest.raises(Refusal) as raised:
        setup.advance(case_id, "complete_theory_class", theory, secretary, ceremony - timedelta(1))
    assert raised.value.rule == "on_after_previous_step"


def test_notes_are_kept_with_the_act_and_blank_notes_are_none(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    data = setup.nomination(cell, TODAY)
    first = setup.engine.nominate(data, setup.secretary(cell), on=TODAY, note="  Hồ sơ tốt  ")
    assert first.event.note == "Hồ sơ tốt"
    case_id = first.case.id or 0
    blank = setup.engine.advance(
        case_id, "withdraw", {"reason": "Chuyển đi"}, setup.secretary(cell), 1, on=TODAY, note="  "
    )
    assert blank.event.note is None
    assert_history_whole(setup, case_id, 2)


def test_failed_cell_vote_is_recorded_and_leaves_the_state(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("verified", cell, end=TODAY - timedelta(days=10))
    version = setup.case(case_id).version
    outcome = setup.advance(
        case_id,
        "cell_vote",
        {"voters": 7, "votes_for": 4, "resolution_ref": "06-NQ/CB"},
        setup.secretary(cell),
        TODAY - timedelta(days=3),
    )
    assert outcome.failed_vote is not None and outcome.failed_vote.rule == "two_thirds"
    assert not outcome.accepted
    after = setup.case(case_id)
    assert after.state == "verified"
    assert after.version == version + 1
    assert after.cell_resolution_on is None
    last = setup.history(case_id)[-1]
    assert (last.event, last.outcome, last.from_state, last.to_state) == (
        "cell_vote",
        "failed_vote",
        "verified",
        "verified",
    )
    assert_history_whole(setup, case_id, version + 1)

    again = setup.advance(
        case_id,
        "cell_vote",
        {"voters": 7, "votes_for": 5, "resolution_ref": "07-NQ/CB"},
        setup.secretary(cell),
        TODAY,
    )
    assert again.accepted and again.case.state == "cell_resolved"
    assert again.case.cell_resolution_on == TODAY


def test_three_failed_confirmation_votes_escalate(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    steps = demo.steps_to("probationary") + list(demo.PATH[9:12])  # papers done
    start = TODAY - timedelta(days=demo.path_days(steps) + 60)
    case = setup.nominate(cell, start)
    assert case.id is not None
    demo.walk(setup.engine, setup.world, case.id, cell, start, steps)
    probation_end = setup.case(case.id).probation_end
    assert probation_end is not None and probation_end < TODAY - timedelta(days=3)
    vote = {"voters": 9, "votes_for": 5, "resolution_ref": "13-NQ/CB"}
    for attempt in range(1, 4):
        outcome = setup.advance(
            case.id,
            "cell_confirm_vote",
            vote,
            setup.secretary(cell),
            TODAY - timedelta(3 - attempt),
        )
        assert outcome.failed_vote is not None and outcome.case.state == "probationary"
        assert outcome.case.failed_confirm_votes == attempt
        assert outcome.case.escalated == (attempt == 3)
    assert setup.case(case.id).escalated
    assert [row.outcome for row in setup.history(case.id)[-3:]] == ["failed_vote"] * 3
    assert_history_whole(setup, case.id, 1 + len(steps) + 3)


def test_transfer_keeps_history_whole(setup: Setup) -> None:
    cell, other = setup.world.cell_ids[0], setup.world.cell_ids[1]
    case_id = setup.case_in("probationary", cell, end=TODAY - timedelta(days=10))
    rows = len(setup.history(case_id))
    outcome = setup.advance(
        case_id, "transfer", {"to_cell_id": other}, setup.secretary(cell), TODAY - timedelta(days=5)
    )
    moved = outcome.case
    assert moved.state == "probationary" and moved.cell_id == other
    assert moved.org_path == setup.world.secretary[other].org_path
    assert moved.member_id is not None and setup.member(moved.member_id).cell_id == other
    assert_history_whole(setup, case_id, rows + 1)
    with pytest.raises(NotFound):  # the sending cell no longer sees the case
        setup.advance(case_id, "record_self_review", {}, setup.secretary(cell), TODAY)
    done = setup.advance(case_id, "record_self_review", {}, setup.secretary(other), TODAY)
    assert done.case.self_review_on == TODAY
    assert_history_whole(setup, case_id, rows + 2)


def test_grant_extension_moves_the_decision_deadline(setup: Setup) -> None:
    cell = setup.bang_lung_cell
    case_id = setup.case_in("committee_resolved", cell, end=TODAY - timedelta(days=5))
    resolved_on = setup.case(case_id).cell_resolution_on
    assert resolved_on is not None
    assert deadlines(setup, case_id) == {"decision": rules.add_working_days(resolved_on, 60)}
    outcome = setup.advance(
        case_id,
        "grant_extension",
        {"deadline": "decision", "working_days": 30, "consent_ref": "45-CV/TU"},
        setup.world.authority_officer[cell],
        TODAY,
    )
    assert outcome.case.state == "committee_resolved"
    extended = rules.add_working_days(resolved_on, 90)
    assert deadlines(setup, case_id) == {"decision": extended}
    assert setup.case(case_id).next_due == extended
    with pytest.raises(Refusal) as raised:
        setup.advance(
            case_id,
            "grant_extension",
            {"deadline": "decision", "working_days": 1, "consent_ref": "46-CV/TU"},
            setup.world.authority_officer[cell],
            TODAY,
        )
    assert raised.value.rule == "extension_allowed"


# ── tampering ─────────────────────────────────────────────────────────────
def tamper(setup: Setup, sql: str, **params: object) -> None:
    history_tamper(setup.engine.database, sql, **params)


def test_editing_a_history_row_is_detected_and_named(setup: Setup) -> None:
    case_id = setup.case_in("sponsored")
    tamper(
        setup,
        "UPDATE historyevent SET data = :data WHERE case_id = :case AND seq = 3",
        data='{"certificate_no":"GCN-GIẢ"}',
        case=case_id,
    )
    with setup.engine.session() as session:
        check = history.verify_case(session, case_id)
    assert not check.intact
    assert check.broken_at == 3 and check.reason == "row altered"


def test_deleting_the_last_history_row_is_detected(setup: Setup) -> None:
    case_id = setup.case_in("sponsored")
    rows = len(setup.history(case_id))
    tamper(
        setup,
        "DELETE FROM historyevent WHERE case_id = :case AND seq = :seq",
        case=case_id,
        seq=rows,
    )
    with setup.engine.session() as session:
        check = history.verify_case(session, case_id)
    assert not check.intact
    assert check.broken_at == rows and check.reason == "latest rows deleted"


def test_editing_a_case_state_by_hand_is_detected(setup: Setup) -> None:
    case_id = setup.case_in("verified")
    rows = len(setup.history(case_id))
    tamper(setup, "UPDATE \"case\" SET state = 'official' WHERE id = :case", case=case_id)
    with setup.engine.session() as session:
        check = history.verify_case(session, case_id)
        everything = history.verify_all(session)
    assert not check.intact and check.broken_at == rows
    assert check.reason == "case state edited: official, history says verified"
    assert [c.case_id for c in everything] == [case_id]


def test_ketnap_verify_exits_1_and_names_the_broken_row(setup: Setup) -> None:
    intact = setup.case_in("class_passed")
    case_id = setup.case_in("sponsored")
    url = setup.engine.database.url.render_as_string(hide_password=False)
    runner = CliRunner()
    clean = runner.invoke(main, ["verify", "--database", url])
    assert clean.exit_code == 0, clean.output
    assert "all history chains intact" in clean.output

    tamper(
        setup,
        "UPDATE historyevent SET actor = 'ke-gian' WHERE case_id = :case AND seq = 2",
        case=case_id,
    )
    broken = runner.invoke(main, ["verify", "--database", url])
    assert broken.exit_code == 1
    assert f"case {case_id}: row 2 row altered" in broken.output
    assert f"case {intact}:" not in broken.output


def test_ceremony_cannot_precede_the_cells_receipt_of_the_decision(setup: Setup) -> None:
    """The ceremony deadline counts from receipt (QĐ 294 §4.1): a ceremony before it is
    an act out of order."""
    cell = setup.dong_lo_cell
    case_id = setup.case_in("committee_resolved", cell, end=TODAY - timedelta(days=30))
    decided = setup.case(case_id).committee_resolution_on
    assert decided is not None
    received = decided + timedelta(days=10)
    data = {"decision_no": "9-QĐ/ĐU", "received_on": received.isoformat()}
    setup.advance(case_id, "decide_admission", data, setup.world.authority_officer[cell], decided)
    helpers = {"helpers": [setup.world.officials[cell][0]]}
    with pytest.raises(Refusal) as refused:
        setup.advance(
            case_id, "hold_ceremony", helpers, setup.secretary(cell), received - timedelta(days=1)
        )
    assert refused.value.rule == "ceremony_after_decision"
    outcome = setup.advance(case_id, "hold_ceremony", helpers, setup.secretary(cell), received)
    assert outcome.case.state == "probationary"
