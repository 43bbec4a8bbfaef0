"""What a case's records say, gathered for the paperwork: the person, the organisations
above the cell, the sponsors and helpers, and the data of each step as its history
recorded it (votes, resolution numbers, class names live only there).

The official forms read one case; the export reads thousands, so everything is loaded
for a batch of cases with one query per table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from workflow.models import (
    Case,
    HelperAssignment,
    HistoryEvent,
    Member,
    Organisation,
    Person,
    Sponsorship,
)

RECORDED = ("accepted", "imported")  # history outcomes that are acts (not failed votes)


@dataclass
class Sponsor:
    member: Member
    alongside_since: date


@dataclass
class CaseFacts:
    case: Case
    person: Person
    cell: Organisation
    committee: Organisation | None  # the cell's parent (grassroots committee)
    authority: Organisation | None  # nearest ancestor that may decide admissions
    sponsors: list[Sponsor] = field(default_factory=list)
    helpers: list[Member] = field(default_factory=list)
    acts: dict[str, dict[str, Any]] = field(default_factory=dict)  # event → its latest data
    act_dates: dict[str, date] = field(default_factory=dict)  # event → its latest `on`

    def act(self, event: str, name: str) -> Any:
        """One datum of the latest recorded `event` (None when not recorded)."""
        return self.acts.get(event, {}).get(name)


class Organisations:
    """Organisations by id, loaded once: every one (trees have thousands of nodes, not
    more), or only those of `lineage` — cases' cells and their ancestors, what the facts
    of those cases name (a case page's forms: a few rows, not the whole tree)."""

    def __init__(self, session: Session, lineage: Sequence[Case] | None = None) -> None:
        query = select(Organisation)
        if lineage is not None:
            query = query.where(col(Organisation.id).in_(_lineage_ids(lineage)))
        self.by_id: dict[int, Organisation] = {
            org.id: org for org in session.exec(query) if org.id is not None
        }
        if lineage is not None:  # a case's copied path behind its cell's (never, in practice)
            missing = {
                ancestor
                for case in lineage
                if (cell := self.by_id.get(case.cell_id)) is not None
                for ancestor in _path_ids(cell.path)
                if ancestor not in self.by_id
            }
            if missing:
                more = session.exec(select(Organisation).where(col(Organisation.id).in_(missing)))
                self.by_id.update({org.id: org for org in more if org.id is not None})

    def get(self, org_id: int | None) -> Organisation | None:
        return self.by_id.get(org_id) if org_id is not None else None

    def authority_of(self, cell: Organisation) -> Organisation | None:
        ancestors = [int(i) for i in cell.path.strip("/").split("/")[:-1]]
        for org_id in reversed(ancestors):
            org = self.by_id.get(org_id)
            if org is not None and org.may_admit:
                return org
        return None


def _lineage_ids(cases: Sequence[Case]) -> set[int]:
    """The cells of `cases` and every ancestor: a case's `org_path` is its cell's path."""
    ids = {case.cell_id for case in cases}
    for case in cases:
        ids.update(_path_ids(case.org_path))
    return ids


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part.isdigit()]


def load(session: Session, case: Case) -> CaseFacts:
    return load_many(session, [case], Organisations(session, [case]))[0]


def load_many(
    session: Session, cases: Sequence[Case], organisations: Organisations | None = None
) -> list[CaseFacts]:
    """The facts of `cases`, in their order, with one query per table."""
    orgs = organisations or Organisations(session)
    ids = [c.id for c in cases if c.id is not None]
    persons = {
        p.id: p
        for p in session.exec(
            select(Person).where(col(Person.id).in_([c.person_id for c in cases]))
        )
    }
    sponsors = _sponsors(session, ids)
    helpers = _helpers(session, ids)
    acts, act_dates = _acts(session, ids)
    facts = []
    for case in cases:
        assert case.id is not None
        cell = orgs.get(case.cell_id)
        assert cell is not None, f"case {case.id} has no cell"
        facts.append(
            CaseFacts(
                case=case,
                person=persons[case.person_id],
                cell=cell,
                committee=orgs.get(cell.parent_id),
                authority=orgs.authority_of(cell),
                sponsors=sponsors.get(case.id, []),
                helpers=helpers.get(case.id, []),
                acts=acts.get(case.id, {}),
                act_dates=act_dates.get(case.id, {}),
            )
        )
    return facts


def _sponsors(session: Session, case_ids: list[int]) -> dict[int, list[Sponsor]]:
    rows = session.exec(
        select(Sponsorship, Member)
        .join(Member, col(Member.id) == Sponsorship.member_id)
        .where(col(Sponsorship.case_id).in_(case_ids))
        .order_by(col(Sponsorship.id))
    )
    result: dict[int, list[Sponsor]] = {}
    for sponsorship, member in rows:
        result.setdefault(sponsorship.case_id, []).append(
            Sponsor(member, sponsorship.alongside_since)
        )
    return result


def _helpers(session: Session, case_ids: list[int]) -> dict[int, list[Member]]:
    rows = session.exec(
        select(HelperAssignment.case_id, Member)
        .join(Member, col(Member.id) == HelperAssignment.member_id)
        .where(col(HelperAssignment.case_id).in_(case_ids))
        .order_by(col(HelperAssignment.id))
    )
    result: dict[int, list[Member]] = {}
    for case_id, member in rows:
        result.setdefault(case_id, []).append(member)
    return result


def _acts(
    session: Session, case_ids: list[int]
) -> tuple[dict[int, dict[str, dict[str, Any]]], dict[int, dict[str, date]]]:
    rows = session.exec(
        select(
            col(HistoryEvent.case_id),
            col(HistoryEvent.event),
            col(HistoryEvent.on),
            col(HistoryEvent.data),
        )
        .where(col(HistoryEvent.case_id).in_(case_ids), col(HistoryEvent.outcome).in_(RECORDED))
        .order_by(col(HistoryEvent.case_id), col(HistoryEvent.seq))
    )
    acts: dict[int, dict[str, dict[str, Any]]] = {}
    dates: dict[int, dict[str, date]] = {}
    for case_id, event, on, data in rows:  # later rows overwrite: the latest act wins
        acts.setdefault(case_id, {})[event] = json.loads(data) if data else {}
        dates.setdefault(case_id, {})[event] = on
    return acts, dates
