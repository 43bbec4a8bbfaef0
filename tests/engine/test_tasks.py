"""The task list (workflow/queries/tasks.py) and the committee's queue with its claims
(workflow/directory/claims.py), on SQLite and PostgreSQL: who must act on what, by when,
overdue first; a task ends by itself when its step is recorded; a claim shows who took a
shared step, is an action in the admin log, and lapses with the step."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from tests.engine.conftest import TODAY, Setup
from workflow.access import Actor, Forbidden
from workflow.directory import claims
from workflow.engine import NotFound
from workflow.models import AdminLogEntry, CaseDeadline, Organisation, TaskClaim, User
from workflow.queries.tasks import Task, task_list
from workflow.schema import InvalidData

NOW = datetime(2026, 3, 2, 3, 0)


def tasks_of(setup: Setup, who: Actor, case_id: int | None = None) -> list[Task]:
    with setup.engine.session() as session:
        return task_list(session, who, case_id=case_id).tasks


def steps(tasks: list[Task], case_id: int) -> list[tuple[str, str, bool]]:
    return [(t.event, t.assignee, t.mine) for t in tasks if t.case_id == case_id]


def user_actor(setup: Setup, username: str) -> Actor:
    with setup.engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return Actor.of(session, user)


def second_officer(setup: Setup, organisation_id: int) -> Actor:
    """Another officer of the same committee (a test's own user row)."""
    with setup.engine.session() as session:
        user = User(username="officer-2", role="officer", organisation_id=organisation_id)
        user.full_name = "Phạm Văn Hòa (Ban Tổ chức)"
        session.add(user)
        session.commit()
        session.refresh(user)
        return Actor.of(session, user)


def test_the_secretary_s_tasks_are_the_cell_s_steps_overdue_first_by_due_date(
    setup: Setup,
) -> None:
    cell = setup.dong_lo_cell
    verified = setup.case_in("verified", cell)
    dossier = setup.case_in("dossier_complete", cell, end=TODAY - timedelta(days=40))
    decided = setup.case_in("admission_decided", cell)
    secretary = setup.secretary(cell)
    tasks = tasks_of(setup, secretary)
    assert steps(tasks, verified) == [("cell_vote", "cell", True)]
    assert steps(tasks, dossier) == [("verify_background", "cell", True)]
    assert steps(tasks, decided) == [("hold_ceremony", "cell", True)]
    mine = [t for t in tasks if t.mine]
    dues = [t.due for t in mine if t.due is not None]
    assert dues == sorted(dues)  # overdue (earliest) first, then by due date
    late = next(t for t in tasks if t.case_id == dossier)
    assert late.overdue(TODAY) and late.deadline == "verification"
    with setup.engine.session() as session:
        stored = session.exec(
            select(col(CaseDeadline.due)).where(
                CaseDeadline.case_id == decided, CaseDeadline.deadline == "ceremony"
            )
        ).one()
    ceremony = next(t for t in tasks if t.case_id == decided)
    assert ceremony.deadline == "ceremony" and ceremony.due == stored


def test_a_committee_step_is_its_officers_and_the_secretary_sees_who_must_act(
    setup: Setup,
) -> None:
    cell = setup.bang_lung_cell  # its committee may not admit: the province decides
    resolved = setup.case_in("cell_resolved", cell)
    committee = setup.case_in("committee_resolved", cell)
    committee_officer = setup.world.committee_officer[cell]
    province = setup.world.authority_officer[cell]
    assert steps(tasks_of(setup, committee_officer), resolved) == [
        ("committee_vote", "committee", True)
    ]
    assert steps(tasks_of(setup, province), committee) == [("decide_admission", "authority", True)]
    assert steps(tasks_of(setup, province), resolved) == [("committee_vote", "committee", False)]
    [seen] = [t for t in tasks_of(setup, setup.secretary(cell)) if t.case_id == committee]
    assert not seen.mine and seen.organisation == "Đảng bộ tỉnh Bắc Giang"
    assert seen.waiting_line().vi.startswith("Chờ Đảng bộ tỉnh Bắc Giang: Quyết định kết nạp")
    assert seen.deadline == "decision" and seen.due is not None


def test_the_helper_s_comment_is_the_helper_s_and_the_member_s_papers_are_not(
    setup: Setup,
) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("probationary", cell)
    helper = user_actor(setup, "sponsor")  # the demo helps with officials[cell][0]
    assert helper.member_id == setup.world.officials[cell][0]
    assert steps(tasks_of(setup, helper), case_id) == [
        ("record_helper_comment", "helper", True)
    ]  # never the theory class or the self-review: the member's own, the secretary's
    secretary_view = steps(tasks_of(setup, setup.secretary(cell)), case_id)
    assert secretary_view == [
        ("complete_theory_class", "cell", True),
        ("record_self_review", "cell", True),
        ("record_helper_comment", "helper", False),
    ]
    [comment] = [t for t in tasks_of(setup, helper) if t.case_id == case_id]
    assert comment.deadline == "probation_papers"
    assert comment.who().vi == f"Đảng viên giúp đỡ {setup.member(helper.member_id or 0).full_name}"


def test_recording_the_step_ends_the_task_by_itself(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("probationary", cell)
    secretary = setup.secretary(cell)
    setup.advance(
        case_id,
        "record_helper_comment",
        {"helper_id": setup.world.officials[cell][0], "comment": "Gương mẫu."},
        secretary,
        TODAY,
    )
    assert [t.event for t in tasks_of(setup, secretary, case_id)] == [
        "complete_theory_class",
        "record_self_review",
    ]
    assert tasks_of(setup, user_actor(setup, "sponsor"), case_id) == []


def test_an_officer_claims_a_shared_step_the_other_sees_who_and_it_lapses_when_recorded(
    setup: Setup,
) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("cell_resolved", cell)
    first = setup.world.committee_officer[cell]
    second = second_officer(setup, first.organisation_id or 0)
    for officer in (first, second):
        [task] = tasks_of(setup, officer, case_id)
        assert (task.event, task.mine, task.queue, task.claim) == (
            "committee_vote",
            True,
            True,
            None,
        )
    with setup.engine.session() as session:
        claims.claim(session, second, case_id, "committee_vote", now=NOW)
    [seen_by_first] = tasks_of(setup, first, case_id)
    assert seen_by_first.claim is not None
    assert seen_by_first.claim.full_name == "Phạm Văn Hòa (Ban Tổ chức)"
    with setup.engine.session() as session:
        logged = session.exec(
            select(AdminLogEntry).where(AdminLogEntry.record_table == "task_claim")
        ).all()
    assert [e.action for e in logged] == ["claim_task"] and logged[0].username == "officer-2"

    setup.advance(
        case_id,
        "committee_vote",
        {"members": 7, "votes_for": 7, "resolution_ref": "NQ-1"},
        first,
        TODAY,
    )
    [after] = tasks_of(setup, first, case_id)  # the decision now, nobody's yet
    assert (after.event, after.claim) == ("decide_admission", None)
    # the recorded step can no longer be claimed
    with pytest.raises(InvalidData), setup.engine.session() as session:
        claims.claim(session, first, case_id, "committee_vote", now=NOW)


def test_unclaim_gives_the_step_back_and_is_logged(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("committee_resolved", cell)
    officer = setup.world.authority_officer[cell]
    with setup.engine.session() as session:
        claims.claim(session, officer, case_id, "decide_admission", now=NOW)
        claims.unclaim(session, officer, case_id, "decide_admission", now=NOW)
        assert session.exec(select(TaskClaim)).all() == []
        actions = session.exec(
            select(AdminLogEntry.action)
            .where(AdminLogEntry.record_table == "task_claim")
            .order_by(col(AdminLogEntry.id))
        ).all()
    assert actions == ["claim_task", "unclaim_task"]
    [task] = tasks_of(setup, officer, case_id)
    assert task.claim is None


def test_only_the_queue_s_officers_claim_and_only_a_queue_s_step(setup: Setup) -> None:
    dong_lo, bang_lung = setup.dong_lo_cell, setup.bang_lung_cell
    case_id = setup.case_in("cell_resolved", dong_lo)
    other_committee = setup.world.committee_officer[bang_lung]
    with setup.engine.session() as session:
        with pytest.raises(Forbidden):
            claims.claim(session, setup.secretary(dong_lo), case_id, "committee_vote", now=NOW)
        province = setup.world.authority_officer[bang_lung]  # sees it, is not its committee
        with pytest.raises(Forbidden):
            claims.claim(session, province, case_id, "committee_vote", now=NOW)
        with pytest.raises(NotFound):  # outside its scope: no such case, as everywhere
            claims.claim(session, other_committee, case_id, "committee_vote", now=NOW)
        verified = setup.case_in("verified", dong_lo)
        with pytest.raises(InvalidData):  # the cell's step: no queue
            claims.claim(
                session, setup.world.committee_officer[dong_lo], verified, "cell_vote", now=NOW
            )
        assert session.exec(select(TaskClaim)).all() == []


def test_a_claim_by_an_officer_who_moved_on_is_ignored(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("cell_resolved", cell)
    officer = setup.world.committee_officer[cell]
    second = second_officer(setup, officer.organisation_id or 0)
    with setup.engine.session() as session:
        claims.claim(session, second, case_id, "committee_vote", now=NOW)
        moved = session.exec(select(User).where(User.username == "officer-2")).one()
        province = session.exec(select(Organisation).where(col(Organisation.parent_id).is_(None)))
        moved.organisation_id = province.one().id
        session.add(moved)
        session.commit()
    [task] = tasks_of(setup, officer, case_id)
    assert task.claim is None


def test_a_closed_case_has_no_task(setup: Setup) -> None:
    cell = setup.dong_lo_cell
    case_id = setup.case_in("verified", cell)
    secretary = setup.secretary(cell)
    setup.advance(case_id, "withdraw", {"reason": "Chuyển đi nơi khác"}, secretary, TODAY)
    assert tasks_of(setup, secretary, case_id) == []


def test_reading_only_what_may_be_mine_finds_exactly_the_same_tasks(setup: Setup) -> None:
    """The fast path of the task list and the home page (`mine_only`) loses nothing."""
    dong_lo, bang_lung = setup.dong_lo_cell, setup.bang_lung_cell
    for state in ("verified", "cell_resolved", "committee_resolved", "probationary"):
        setup.case_in(state, dong_lo)
        setup.case_in(state, bang_lung)
    actors = [
        setup.secretary(dong_lo),
        setup.world.committee_officer[dong_lo],
        setup.world.committee_officer[bang_lung],
        setup.world.authority_officer[bang_lung],
        user_actor(setup, "sponsor"),
        user_actor(setup, "admin"),
    ]
    for who in actors:
        everything = tasks_of(setup, who)
        with setup.engine.session() as session:
            fast = task_list(session, who, mine_only=True).mine
        assert fast == [t for t in everything if t.mine], who.username
    assert any(t.mine for t in tasks_of(setup, setup.world.authority_officer[bang_lung]))


def test_the_most_urgent_cases_are_those_whose_earliest_deadline_comes_first(
    setup: Setup,
) -> None:
    cell = setup.dong_lo_cell
    late = setup.case_in("dossier_complete", cell, end=TODAY - timedelta(days=60))
    setup.case_in("class_passed", cell)  # its certificate lasts five years
    with setup.engine.session() as session:
        [urgent] = {
            t.case_id for t in task_list(session, setup.secretary(cell), most_urgent=1).tasks
        }
    assert urgent == late


def test_two_officers_taking_a_step_at_once_end_with_one_claim(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other officer's claim lands between our read and our write: ours becomes a
    hand-over (two log entries), never an error and never two claims."""
    cell = setup.dong_lo_cell
    case_id = setup.case_in("cell_resolved", cell)
    first = setup.world.committee_officer[cell]
    second = second_officer(setup, first.organisation_id or 0)
    real = claims._queued_step
    raced: list[bool] = []

    def racing(session: object, actor: Actor, case: int, event: str) -> object:
        found = real(session, actor, case, event)  # type: ignore[arg-type]
        if not raced:
            raced.append(True)
            with setup.engine.session() as other:
                claims.claim(other, second, case, event, now=NOW)
        return found

    monkeypatch.setattr(claims, "_queued_step", racing)
    with setup.engine.session() as session:
        row = claims.claim(session, first, case_id, "committee_vote", now=NOW)
        assert session.exec(select(TaskClaim)).all() == [row]
        actions = session.exec(
            select(AdminLogEntry.action).where(AdminLogEntry.record_table == "task_claim")
        ).all()
    [task] = tasks_of(setup, second, case_id)
    assert task.claim is not None and task.claim.username == first.username
    assert actions == ["claim_task", "claim_task"]
