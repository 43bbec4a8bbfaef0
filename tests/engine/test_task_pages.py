"""The task list a page at a time (workflow.queries.tasks.task_page), on SQLite and
PostgreSQL: walking the pages by their cursors lists every task of the whole list once,
the cases taken soonest due first and those without a due date last; each page costs
the same statements whatever its place, and the count of cases stops at COUNT_CAP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.engine.conftest import TODAY, Setup
from tests.engine.test_class_picker import counted
from tests.engine.test_tasks import user_actor
from workflow.access import Actor
from workflow.directory import claims
from workflow.engine import NotFound
from workflow.models import Case, CaseDeadline
from workflow.queries import case_list
from workflow.queries.case_list import Cursor
from workflow.queries.case_page import load_case
from workflow.queries.tasks import Task, task_list, task_page, tasks_of_case


def _key(task: Task) -> tuple[int, str]:
    return task.case_id, task.event


def _walk(setup: Setup, who: Actor, mine_only: bool, per_page: int) -> list[list[Task]]:
    pages: list[list[Task]] = []
    after: Cursor | None = None
    with setup.engine.session() as session:
        while True:
            page = task_page(session, who, mine_only=mine_only, after=after, per_page=per_page)
            pages.append(page.tasks)
            if page.next is None:
                return pages
            after = Cursor.parse(page.next.token)  # as a link carries it
            assert after == page.next
            assert len(pages) < 100


def _a_world_of_cases(setup: Setup) -> None:
    dong_lo, bang_lung = setup.dong_lo_cell, setup.bang_lung_cell
    for state in ("nominated", "verified", "cell_resolved", "committee_resolved", "probationary"):
        setup.case_in(state, dong_lo)
        setup.case_in(state, bang_lung)
    setup.case_in("dossier_complete", dong_lo, end=TODAY - timedelta(days=60))  # overdue
    # a case without any live deadline: listed after the dated ones
    undated = setup.case_in("verified", bang_lung)
    with setup.engine.session() as session:
        for row in session.exec(select(CaseDeadline).where(CaseDeadline.case_id == undated)):
            session.delete(row)
        case = session.get(Case, undated)
        assert case is not None
        case.next_due = None
        session.add(case)
        session.commit()


def test_the_pages_list_every_task_once_soonest_due_first(setup: Setup) -> None:
    _a_world_of_cases(setup)
    actors = [
        setup.secretary(setup.dong_lo_cell),
        setup.world.committee_officer[setup.dong_lo_cell],
        setup.world.authority_officer[setup.bang_lung_cell],
        user_actor(setup, "admin"),
    ]
    for who in actors:
        with setup.engine.session() as session:
            whole = task_list(session, who)
        for mine_only in (False, True):
            pages = _walk(setup, who, mine_only, per_page=2)
            listed = [t for page in pages for t in page]
            expected = whole.mine if mine_only else whole.tasks
            assert sorted(map(_key, listed)) == sorted(map(_key, expected)), who.username
            assert len(set(map(_key, listed))) == len(listed)  # none twice
            # each page overdue first, then by due date, the undated last
            for page in pages:
                dues = [(t.due is None, t.due) for t in page]
                assert dues == sorted(dues, key=lambda d: (d[0], d[1] or TODAY))
        cases = [t.case_id for page in _walk(setup, who, False, per_page=2) for t in page]
        with setup.engine.session() as session:
            due = {c.id: c.next_due for c in session.exec(select(Case)) if c.id in cases}
        firsts = list(dict.fromkeys(cases))
        order = [(due[c] is None, due[c] or TODAY, c) for c in firsts]
        assert order == sorted(order), who.username


def test_a_page_costs_as_many_statements_wherever_it_is(setup: Setup) -> None:
    _a_world_of_cases(setup)
    who = user_actor(setup, "admin")
    costs = []
    after: Cursor | None = None
    with setup.engine.session() as session:
        while True:
            with counted(setup) as statements:
                page = task_page(session, who, after=after, per_page=3)
            costs.append(len(statements))
            if page.next is None:
                break
            after = page.next
    assert len(costs) > 3 and len(set(costs)) == 1, costs


def test_the_count_of_cases_stops_at_the_cap(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    _a_world_of_cases(setup)
    who = user_actor(setup, "admin")
    with setup.engine.session() as session:
        everything = task_page(session, who)
        assert not everything.capped and everything.total >= 12
        monkeypatch.setattr(case_list, "COUNT_CAP", 5)
        capped = task_page(session, who)
    assert capped.total == 5 and capped.capped


def test_one_case_s_tasks_from_its_page_are_the_task_list_s(setup: Setup) -> None:
    """`tasks_of_case` (the case page's: from what the page read, the claims alone
    queried) gives what `task_list(case_id=…)` derives with its five queries, for every
    case and reader — a claimed committee step included."""
    _a_world_of_cases(setup)
    officer = setup.world.committee_officer[setup.dong_lo_cell]
    with setup.engine.session() as session:
        waiting = session.exec(select(Case).where(Case.state == "cell_resolved")).first()
        assert waiting is not None and waiting.id is not None
        claims.claim(session, officer, waiting.id, "committee_vote", now=setup.clock.now())
    readers = [
        setup.secretary(setup.dong_lo_cell),
        setup.secretary(setup.bang_lung_cell),
        officer,
        setup.world.authority_officer[setup.bang_lung_cell],
        user_actor(setup, "sponsor"),
        user_actor(setup, "admin"),
    ]
    claimed = 0
    with setup.engine.session() as session:
        case_ids = [c.id for c in session.exec(select(Case)) if c.id is not None]
        for who in readers:
            for case_id in case_ids:
                try:
                    page = load_case(session, case_id, who)
                except NotFound:
                    continue
                derived = task_list(session, who, case_id=case_id).tasks
                with counted(setup) as statements:
                    found = tasks_of_case(session, who, page)
                assert found == derived, (who.username, case_id)
                assert len(statements) <= 1
                claimed += sum(1 for t in found if t.claim is not None)
    assert claimed
