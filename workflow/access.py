"""Who may see and do what: scoping, enforced here once for the engine, pages and API.

An organisation's subtree is a prefix of `path`, so "acts for" is a string test and a
scoped query is one indexed `LIKE 'prefix%'`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, col, select

from workflow.models import Case, HelperAssignment, Organisation, Sponsorship, User

ROLES = ("secretary", "sponsor", "officer", "auditor", "admin")
# Which roles may record each kind of event (process.Event.acted_by), before scope.
RECORDERS = {
    "cell": ("secretary", "officer"),
    "committee": ("officer",),
    "authority": ("officer",),
    "helper": ("secretary", "officer", "sponsor"),
}


class Forbidden(Exception):
    """The role may not do this (HTTP 403)."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    organisation_id: int | None
    org_path: str  # "" for no organisation
    member_id: int | None = None

    def acts_for(self, path: str) -> bool:
        """True when `path` (an organisation's) lies in the actor's subtree."""
        if self.role == "admin":
            return True
        return bool(self.org_path) and path.startswith(self.org_path)

    @classmethod
    def of(cls, session: Session, user: User) -> Actor:
        org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
        return cls(
            user.username, user.role, user.organisation_id, org.path if org else "", user.member_id
        )


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of the cases `actor` may read."""
    if actor.role == "admin":
        return true()
    if actor.role == "sponsor":
        if actor.member_id is None:
            return false()
        sponsored = select(col(Sponsorship.case_id)).where(Sponsorship.member_id == actor.member_id)
        helped = select(col(HelperAssignment.case_id)).where(
            HelperAssignment.member_id == actor.member_id
        )
        return or_(col(Case.id).in_(sponsored), col(Case.id).in_(helped))
    if not actor.org_path:
        return false()
    return col(Case.org_path).startswith(actor.org_path)


def visible_organisations(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of the organisations (and so the members) `actor` may read."""
    if actor.role == "admin":
        return true()
    if not actor.org_path:
        return false()
    return col(Organisation.path).startswith(actor.org_path)


def can_see(session: Session, actor: Actor, case: Case) -> bool:
    if actor.role == "sponsor":
        query = select(col(Case.id)).where(Case.id == case.id, visible_cases(actor))
        return session.exec(query).first() is not None
    return actor.role == "admin" or actor.acts_for(case.org_path)


def check_may_record(actor: Actor, acted_by: str) -> None:
    """Raise Forbidden unless the actor's role records this kind of event."""
    if actor.role not in RECORDERS[acted_by]:
        raise Forbidden(f"role {actor.role} may not record {acted_by} events")
