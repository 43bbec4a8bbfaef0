"""Everything one case's page shows (and its audit and print views): the case, the
candidate, sponsors, helpers, deadlines, the history with its chain check, and the
names the timeline mentions — a handful of queries, however long the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from workflow import access, history, process
from workflow.access import Actor
from workflow.engine import NotFound
from workflow.models import (
    Case,
    CaseDeadline,
    HelperAssignment,
    HistoryEvent,
    Member,
    Organisation,
    Person,
    Sponsorship,
    User,
)


@dataclass
class CasePage:
    case: Case
    person: Person
    cell: Organisation | None
    sponsors: list[tuple[Sponsorship, Member]]
    helpers: list[Member]
    deadlines: list[CaseDeadline]
    rows: list[HistoryEvent]
    chain: history.ChainCheck
    member_names: dict[int, str] = field(default_factory=dict)
    org_names: dict[int, str] = field(default_factory=dict)
    # the cell, every organisation above it and those the timeline names (transfers)
    organisations: dict[int, Organisation] = field(default_factory=dict)


def load_case(session: Session, case_id: int, who: Actor) -> CasePage:
    """The case page's reads (NotFound, a 404, outside the actor's scope)."""
    case = session.get(Case, case_id)
    if case is None or not access.can_see(session, who, case):
        raise NotFound(case_id)
    person = session.get(Person, case.person_id)
    assert person is not None
    sponsors = _sponsors(session, case_id)
    helpers = _helpers(session, case_id)
    rows = history.rows_of(session, case_id)
    orgs = _organisations(session, case, rows)
    return CasePage(
        case,
        person,
        orgs.get(case.cell_id),
        sponsors,
        helpers,
        _deadlines(session, case_id),
        rows,
        history.verify_loaded(session, case, person, rows),
        _member_names(session, case.cell_id, rows, sponsors, helpers),
        {org_id: org.name for org_id, org in orgs.items()},
        orgs,
    )


def _sponsors(session: Session, case_id: int) -> list[tuple[Sponsorship, Member]]:
    query = (
        select(Sponsorship, Member)
        .join(Member, col(Member.id) == Sponsorship.member_id)
        .where(Sponsorship.case_id == case_id)
        .order_by(col(Sponsorship.id))
    )
    return list(session.exec(query).all())


def _helpers(session: Session, case_id: int) -> list[Member]:
    query = (
        select(Member)
        .join(HelperAssignment, col(HelperAssignment.member_id) == Member.id)
        .where(HelperAssignment.case_id == case_id)
        .order_by(col(HelperAssignment.id))
    )
    return list(session.exec(query).all())


def _deadlines(session: Session, case_id: int) -> list[CaseDeadline]:
    query = (
        select(CaseDeadline).where(CaseDeadline.case_id == case_id).order_by(col(CaseDeadline.due))
    )
    return list(session.exec(query).all())


def _member_names(
    session: Session,
    cell_id: int,
    rows: list[HistoryEvent],
    sponsors: list[tuple[Sponsorship, Member]],
    helpers: list[Member],
) -> dict[int, str]:
    """Names of the members the timeline mentions: of the case's cell, and its sponsors
    and helpers (who may belong to another cell). Only those the rows name are read:
    the forms' pickers find members by name, so the cell's list is not loaded."""
    names = {m.id or 0: m.full_name for _s, m in sponsors}
    names.update({m.id or 0: m.full_name for m in helpers})
    mentioned = {i for row in rows for i in _members_in(row)} - set(names)
    if mentioned:
        query = select(Member.id, Member.full_name).where(
            col(Member.id).in_(mentioned), Member.cell_id == cell_id
        )
        names.update({m_id: name for m_id, name in session.exec(query) if m_id is not None})
    return names


def _members_in(row: HistoryEvent) -> set[int]:
    """The member ids a history row's data names (member fields, in lists too)."""
    spec = process.event(row.event)
    data = json.loads(row.data or "{}")
    found: set[int] = set()
    pending = [(spec.fields if spec else (), data)]
    while pending:
        specs, values = pending.pop()
        if not isinstance(values, dict):
            continue
        for field_spec in specs:
            value = values.get(field_spec.name)
            if field_spec.type == "member" and isinstance(value, int):
                found.add(value)
            elif field_spec.type == "members" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, int))
            elif field_spec.type == "object":
                pending.append((field_spec.parts, value))
            elif field_spec.type == "list" and isinstance(value, list):
                pending.extend((field_spec.parts, item) for item in value)
    return found


def _organisations(
    session: Session, case: Case, rows: list[HistoryEvent]
) -> dict[int, Organisation]:
    """The case's cell, every organisation above it (who must act: the committee, the
    competent authority; the class picker's line; the official forms' letterheads) and
    those its timeline mentions (transfers): one query for those few, not the tree."""
    ids = {case.cell_id, *(int(p) for p in case.org_path.strip("/").split("/") if p.isdigit())}
    for row in rows:
        spec = process.event(row.event)
        data = json.loads(row.data)
        for field_spec in spec.fields if spec else ():
            value = data.get(field_spec.name)
            if field_spec.type == "organisation" and isinstance(value, int):
                ids.add(value)
    query = select(Organisation).where(col(Organisation.id).in_(ids))
    return {org.id: org for org in session.exec(query) if org.id is not None}


def actor_names(session: Session, usernames: set[str]) -> dict[str, str]:
    """The full names of the users who recorded a history (its `actor` column holds the
    username), for pages that show people by name; a user without one keeps the username."""
    if not usernames:
        return {}
    query = select(User.username, User.full_name).where(col(User.username).in_(usernames))
    return {username: name or username for username, name in session.exec(query)}
