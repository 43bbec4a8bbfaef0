"""The auditor's whole-subtree integrity check: asked for once, run in the background by
the scheduler's runner, its progress written as it goes, and its result kept with its
date and who asked — so the page shows it without recomputing. An insider's edit of one
history row is found; a subtree's check sees its own cases only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.engine.conftest import Setup
from tests.history.tamper import tamper
from workflow.access import Actor
from workflow.history import integrity as checker
from workflow.models import AdminLogEntry, Case, Organisation, User
from workflow.ops import integrity


def _actor(setup: Setup, username: str) -> Actor:
    with setup.engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return Actor.of(session, user)


def _subtree_auditor(setup: Setup, org: Organisation) -> Actor:
    with setup.engine.session() as session:
        user = User(
            username="auditor-dong-lo",
            password_hash="-",
            role="auditor",
            organisation_id=org.id,
            full_name="Kiểm tra Đông Lỗ",
        )
        session.add(user)
        session.commit()
        return Actor.of(session, user)


def test_a_tampered_row_is_found_by_the_whole_check_and_the_result_is_kept(setup: Setup) -> None:
    first = setup.case_in("sponsored")
    setup.case_in("verified", cell=setup.bang_lung_cell)
    auditor = _actor(setup, "auditor")
    queued = integrity.request_check(setup.engine, auditor)
    assert queued.state == "queued" and queued.whole and queued.org_path == auditor.org_path
    assert integrity.request_check(setup.engine, auditor).id == queued.id  # not twice
    assert integrity.latest(setup.engine, auditor) is None  # nothing computed on request

    tamper(
        setup.engine.database,
        "UPDATE historyevent SET note = 'sửa tay' WHERE case_id = :case AND seq = 2",
        case=first,
    )
    assert integrity.tick(setup.engine, None) == 1

    kept = integrity.latest(setup.engine, auditor)
    assert kept is not None and kept.id == queued.id and kept.state == "done"
    with setup.engine.session() as session:
        cases = len(session.exec(select(Case.id)).all())
    assert kept.intact is False and kept.done == kept.total == cases and kept.rows > cases
    assert kept.requested_by == "auditor" and kept.finished_at == setup.engine.clock.now()
    found = integrity.problems_of(kept)
    assert {"case_id": first, "seq": 2, "reason": "row altered"} in found
    assert kept.problem_count == len(found)
    assert integrity.status(kept) | {"id": None} == {
        "id": None,
        "state": "done",
        "done": cases,
        "total": cases,
        "rows": kept.rows,
        "percent": 100,
        "intact": False,
        "problem_count": kept.problem_count,
    }
    assert integrity.running(setup.engine, auditor) is None
    with setup.engine.session() as session:
        logged = session.exec(
            select(AdminLogEntry).where(AdminLogEntry.record_table == "integrity_check")
        ).all()
    assert [(e.action, e.username) for e in logged] == [
        ("request_integrity_check", "auditor"),
        ("finish_integrity_check", "auditor"),
    ]
    assert json.loads(logged[1].changes)["intact"] == {"old": None, "new": False}


def test_a_subtree_check_sees_its_own_cases_only(setup: Setup) -> None:
    dong_lo = setup.organisation("Đảng ủy xã Đông Lỗ")
    inside = setup.case_in("sponsored")
    outside = setup.case_in("sponsored", cell=setup.bang_lung_cell)
    tamper(
        setup.engine.database,
        "UPDATE historyevent SET actor = 'someone' WHERE case_id = :case AND seq = 1",
        case=outside,
    )
    local = _subtree_auditor(setup, dong_lo)
    mine = integrity.request_check(setup.engine, local)
    assert not mine.whole and mine.org_path == dong_lo.path
    whole = integrity.request_check(setup.engine, _actor(setup, "auditor"))
    assert integrity.check_of(setup.engine, local, whole.id or 0) is None  # not theirs
    assert integrity.tick(setup.engine, None) == 2

    kept = integrity.latest(setup.engine, local)
    assert kept is not None and kept.intact is True and kept.problem_count == 0
    with setup.engine.session() as session:
        in_scope = session.exec(
            select(Case.id).where(Case.org_path.startswith(dong_lo.path))  # type: ignore[attr-defined]
        ).all()
    assert inside in in_scope and kept.total == len(in_scope)
    everything = integrity.latest(setup.engine, _actor(setup, "auditor"))
    assert everything is not None and everything.intact is False
    assert any(p["case_id"] == outside for p in integrity.problems_of(everything))


def test_progress_is_reported_batch_by_batch(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        setup.case_in("class_passed")
    monkeypatch.setattr(checker, "BATCH", 2)
    seen: list[tuple[int, int]] = []
    with setup.engine.session() as session:
        total = checker.count_cases(session, "")
        result = checker.check_subtree(session, "", lambda d, t, r: seen.append((d, t)))
    assert result.intact and result.cases == total >= 3
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 3


def test_a_check_whose_runner_died_ends_failed(setup: Setup) -> None:
    auditor = _actor(setup, "auditor")
    queued = integrity.request_check(setup.engine, auditor)
    assert integrity.claim(setup.engine, "a runner that dies") == queued.id
    setup.clock.moment += timedelta(hours=1)
    integrity.fail_stale(setup.engine)
    kept = integrity.latest(setup.engine, auditor)
    assert kept is not None and kept.state == "failed" and kept.intact is None
    assert "dừng giữa chừng" in (kept.error_vi or "")
