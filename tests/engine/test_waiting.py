"""What a case waits for, derived from the process table (workflow/waiting.py): every
state of the table is covered — the parametrisation comes from process.STATES, so a new
state fails here until someone says what a case in it waits for. Pure: no database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from workflow import access, process, waiting
from workflow.models import Case

PAPERS = ("theory_class_on", "self_review_on", "helper_comment_on")
# state → the steps a case in it waits for (probation: none of its papers recorded yet)
EXPECTED: dict[str, list[str]] = {
    "nominated": ["enrol_in_class"],
    "in_class": ["pass_class"],
    "class_passed": ["assign_sponsors"],
    "sponsored": ["submit_dossier"],
    "dossier_complete": ["verify_background"],
    "verified": ["cell_vote"],
    "cell_resolved": ["committee_vote"],
    "committee_resolved": ["decide_admission"],
    "admission_decided": ["hold_ceremony"],
    "probationary": ["complete_theory_class", "record_self_review", "record_helper_comment"],
    "confirmation_cell_resolved": ["committee_confirm_vote"],
    "confirmation_committee_resolved": ["confirm"],
    "official": [],
    "rejected": [],
    "withdrawn": [],
    "removed": [],
}


def case_in(state: str, **dates: Any) -> Case:
    terminal = process.state(state).terminal
    return Case(
        person_id=1,
        cell_id=1,
        state=state,
        nominated_on=date(2025, 1, 1),
        open=not terminal,
        **dates,
    )


def test_every_state_of_the_table_is_covered() -> None:
    assert set(EXPECTED) == set(process.STATE_NAMES)


@pytest.mark.parametrize("state", process.STATE_NAMES)
def test_a_case_waits_for_the_normal_next_step_of_its_state(state: str) -> None:
    assert [e.name for e in waiting.waited_events(case_in(state))] == EXPECTED[state]


@pytest.mark.parametrize("state", process.OPEN_STATES)
def test_an_open_case_always_waits_for_something_and_never_for_an_other_action(
    state: str,
) -> None:
    waited = waiting.waited_events(case_in(state))
    assert waited, f"an open case in {state} would drop out of every task list"
    assert not any(e.alternative for e in waited)
    for event in waited:
        assert state in event.sources  # the table allows it: its form can be offered
        assert waiting.assignee_kind(event) in waiting.ASSIGNEES


def test_the_other_actions_are_the_ones_that_close_send_back_move_or_extend() -> None:
    others = {e.name for e in process.EVENTS if e.alternative}
    assert others >= {"fail_class", "reject", "withdraw", "transfer", "grant_extension", "remove"}
    closing = {e.name for e in process.EVENTS if e.target and process.state(e.target).terminal}
    assert closing - {"confirm"} <= others  # only the happy ending is a normal step


def test_each_paper_of_probation_stops_being_waited_for_once_recorded() -> None:
    on = date(2026, 6, 1)
    some = case_in("probationary", theory_class_on=on)
    assert [e.name for e in waiting.waited_events(some)] == [
        "record_self_review",
        "record_helper_comment",
    ]
    more = case_in("probationary", theory_class_on=on, self_review_on=on)
    assert [e.name for e in waiting.waited_events(more)] == ["record_helper_comment"]


def test_the_confirmation_vote_waits_for_the_three_papers() -> None:
    on = date(2026, 6, 1)
    two = case_in("probationary", theory_class_on=on, self_review_on=on)
    assert not waiting.is_waited(two, "cell_confirm_vote")
    three = case_in("probationary", **dict.fromkeys(PAPERS, on))
    assert [e.name for e in waiting.waited_events(three)] == ["cell_confirm_vote"]


def test_a_closed_case_waits_for_nothing_whatever_its_state_says() -> None:
    closed = case_in("verified")
    closed.open = False
    assert waiting.waited_events(closed) == []


def test_stay_in_state_steps_say_which_date_marks_them_done() -> None:
    for event in process.EVENTS:
        if event.target is None and not event.alternative:
            assert event.done_when in Case.model_fields, event.name
        for name in event.waits_for:
            assert name in Case.model_fields, (event.name, name)
        if event.discharges is not None:
            assert process.deadline(event.discharges) is not None


@pytest.mark.parametrize("state", process.OPEN_STATES)
def test_a_step_meets_a_deadline_live_in_its_state_when_it_names_one(state: str) -> None:
    for event in waiting.waited_events(case_in(state)):
        if event.discharges:
            assert state in process.deadline(event.discharges).states, (state, event.name)


def test_the_committee_and_the_competent_authority_are_read_from_the_cell_s_path() -> None:
    path = "/1/2/4/"  # province 1 → grassroots committee 2 → cell 4
    assert waiting.committee_of(path) == 2
    assert waiting.competent_authority_of(path, {1: True, 2: True}) == 2
    assert waiting.competent_authority_of(path, {1: True, 2: False}) == 1
    assert waiting.competent_authority_of(path, {}) is None
    assert waiting.committee_of("/4/") is None


def test_a_reminder_leads_each_role_to_a_step_it_records_and_a_helper_to_the_comment() -> None:
    assert waiting.step_for("probation_papers", "sponsor") == "record_helper_comment"
    assert waiting.step_for("probation_papers", "secretary") == "record_self_review"
    assert waiting.step_for("decision", "officer") == "committee_vote"
    assert waiting.step_for("certificate", "sponsor") is None
    for deadline in process.DEADLINES:
        for role in access.ROLES:
            step = waiting.step_for(deadline.id, role)
            if step is not None:
                spec = process.event(step)
                assert spec is not None and role in access.RECORDERS[spec.acted_by]
