"""Claiming a step from a committee's shared queue (Camunda Tasklist's claim/unclaim):
an officer of the organisation that must act takes the task, so the others see who has
it; they may give it back. Each claim and unclaim is an action that logs to the admin
log, like every change outside a case's history.

A claim is never "closed": the task is derived from the case (workflow/waiting.py), so
once the step is recorded the case no longer waits for it and the claim is ignored;
the next claim of the same step (were it ever waited for again) replaces the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from workflow import access, process, waiting
from workflow.access import Actor, Forbidden
from workflow.directory import admin_log
from workflow.engine import NotFound
from workflow.models import Case, Organisation, TaskClaim, User
from workflow.schema import InvalidData

LOGGED = ("case_id", "event", "organisation_id", "user_id")


def queue_of(session: Session, case: Case, event: process.Event) -> int | None:
    """The organisation whose officers share this step (None: not a queue's step)."""
    kind = waiting.assignee_kind(event)
    if kind == "committee":
        return waiting.committee_of(case.org_path)
    if kind == "authority":
        ids = [int(i) for i in case.org_path.strip("/").split("/") if i]
        rows = session.exec(
            select(Organisation.id, Organisation.may_admit).where(col(Organisation.id).in_(ids))
        )
        return waiting.competent_authority_of(
            case.org_path, {org_id: bool(admits) for org_id, admits in rows if org_id}
        )
    return None


def _queued_step(session: Session, actor: Actor, case_id: int, event_name: str) -> tuple[Case, int]:
    """The case and the queue's organisation, when the actor is one of its officers and
    the case waits for this step; otherwise the refusal a user reads."""
    if actor.role != "officer":
        raise Forbidden(f"role {actor.role} does not take a committee's tasks")
    case = session.get(Case, case_id)
    if case is None or not access.can_see(session, actor, case):
        raise NotFound(case_id)
    event = process.event(event_name)
    if event is None or not waiting.is_waited(case, event_name):
        raise InvalidData(
            "event",
            "Hồ sơ không chờ bước này (đã ghi nhận hoặc chưa đến lượt)",
            "The case does not wait for this step (recorded already, or not yet due)",
        )
    queue = queue_of(session, case, event)
    if queue is None:
        raise InvalidData(
            "event",
            "Bước này không thuộc hàng việc chung của cấp ủy",
            "This step is not in a committee's shared queue",
        )
    if actor.organisation_id != queue:
        raise Forbidden("only the officers of the organisation that must act claim its step")
    return case, queue


def _user(session: Session, actor: Actor) -> User:
    user = session.exec(select(User).where(User.username == actor.username)).first()
    if user is None or user.id is None:
        raise Forbidden("a claim needs a user account")
    return user


def claim(
    session: Session, actor: Actor, case_id: int, event_name: str, *, now: datetime
) -> TaskClaim:
    """Take the step; an officer's claim replaces another's (a hand-over: logged). Two
    officers taking it at the same instant: the unique step makes the later one a
    hand-over, as if it came a moment after."""
    try:
        return _claim(session, actor, case_id, event_name, now)
    except IntegrityError:
        session.rollback()
        return _claim(session, actor, case_id, event_name, now)


def _claim(
    session: Session, actor: Actor, case_id: int, event_name: str, now: datetime
) -> TaskClaim:
    case, queue = _queued_step(session, actor, case_id, event_name)
    user = _user(session, actor)
    row = session.exec(
        select(TaskClaim).where(TaskClaim.case_id == case_id, TaskClaim.event == event_name)
    ).first()
    before = admin_log.snapshot(row, LOGGED) if row else {}
    row = row or TaskClaim(
        case_id=case_id, event=event_name, organisation_id=queue, user_id=0, claimed_at=now
    )
    row.organisation_id, row.user_id, row.claimed_at = queue, int(user.id or 0), now
    session.add(row)
    session.flush()
    admin_log.append(
        session,
        actor,
        action="claim_task",
        record=row,
        org_path=case.org_path,
        before=before,
        after=admin_log.snapshot(row, LOGGED),
        at=now,
    )
    session.commit()
    session.refresh(row)
    return row


def unclaim(
    session: Session, actor: Actor, case_id: int, event_name: str, *, now: datetime
) -> None:
    """Give the step back to the queue: any officer of the queue may (a colleague away)."""
    case, _queue = _queued_step(session, actor, case_id, event_name)
    row = session.exec(
        select(TaskClaim).where(TaskClaim.case_id == case_id, TaskClaim.event == event_name)
    ).first()
    if row is None:
        return
    admin_log.append(
        session,
        actor,
        action="unclaim_task",
        record=row,
        org_path=case.org_path,
        before=admin_log.snapshot(row, LOGGED),
        after={},
        at=now,
    )
    session.delete(row)
    session.commit()
