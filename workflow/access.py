"""Who may see and do what: scoping, enforced here once for the engine, pages and API.

An organisation's subtree is a prefix of `path`, so "acts for" is a string test and a
scoped query is one indexed `LIKE 'prefix%'`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true, union
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from workflow.models import Case, HelperAssignment, Member, Organisation, Sponsorship, User

ROLES = ("secretary", "sponsor", "officer", "auditor", "admin")
# Which roles may record each kind of event (process.Event.acted_by), before scope.
RECORDERS = {
    "cell": ("secretary", "officer"),
    "committee": ("officer",),
    "authority": ("officer",),
    "helper": ("secretary", "officer", "sponsor"),
}
# Who may list party members with their particulars (the API's member list, the export).
MEMBER_LISTERS = ("secretary", "officer", "auditor", "admin")


class Forbidden(Exception):
    """The role may not do this (HTTP 403)."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    organisation_id: int | None
    org_path: str  # "" for no organisation
    member_id: int | None = None
    # A stand-in recording for another user (an import replays history as the case's
    # cell secretary and committee): which members it may name is that user's to say.
    on_behalf_of: Actor | None = None

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
        # one IN over both links: an OR of two INs makes PostgreSQL scan every case
        return col(Case.id).in_(union(sponsored, helped))
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


# ── party members: one reader rule ──────────────────────────────────────
# Whom an actor may see, by name or in a list, wherever a member appears: a guard's
# refusal (out of sight reads as "no such member in your scope", like a missing id,
# so existence does not leak), the sponsor and helper pickers, the API's member list
# and the export. Those two lists are further kept to MEMBER_LISTERS.
def visible_members(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause (over Member) of the members `actor` may see: the members of the
    organisations in the actor's scope, plus the sponsors and helpers of the cases the
    actor may read (a transferred case's sponsors may belong to its former cell). A
    sponsor sees themselves and the sponsors and helpers of their own cases."""
    if actor.role == "admin":
        return true()
    linked = or_(_linked(Sponsorship, actor), _linked(HelperAssignment, actor))
    if actor.role == "sponsor":
        if actor.member_id is None:
            return false()
        return or_(col(Member.id) == actor.member_id, linked)
    if not actor.org_path:
        return linked
    in_scope = select(col(Organisation.id)).where(visible_organisations(actor))
    return or_(col(Member.cell_id).in_(in_scope), linked)


def _linked(link: type[Sponsorship] | type[HelperAssignment], actor: Actor) -> ColumnElement[bool]:
    """The member is linked by `link` to a case the actor may read. Uncorrelated, so the
    database reads the links of the actor's cases once (an index on the case's path)
    and finds the members by key, instead of probing every member of the table."""
    row = aliased(link)  # a sponsor's `visible_cases` is a subquery of the same table
    linked = (
        select(row.member_id).join(Case, col(Case.id) == row.case_id).where(visible_cases(actor))
    )
    return col(Member.id).in_(linked)


def can_see_member(session: Session, actor: Actor, member: Member) -> bool:
    """Whether `actor` may see `member`: the `visible_members` rule for one member,
    asked the cheap way round (the member's links by key, not the actor's cases)."""
    if actor.on_behalf_of is not None:
        return can_see_member(session, actor.on_behalf_of, member)
    if actor.role == "admin" or (actor.role == "sponsor" and member.id == actor.member_id):
        return True
    if actor.role == "sponsor" and actor.member_id is None:
        return False
    if actor.role != "sponsor" and actor.org_path:
        cell = session.get(Organisation, member.cell_id)
        if cell is not None and actor.acts_for(cell.path):
            return True
    links: tuple[type[Sponsorship] | type[HelperAssignment], ...] = (Sponsorship, HelperAssignment)
    for link in links:
        row = aliased(link)
        query = (
            select(row.case_id)
            .join(Case, col(Case.id) == row.case_id)
            .where(row.member_id == member.id, visible_cases(actor))
            .limit(1)
        )
        if session.exec(query).first() is not None:
            return True
    return False


def listed_members(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of the members `actor` may list with their particulars (the
    API's member list and the export): Forbidden to roles outside MEMBER_LISTERS."""
    if actor.role not in MEMBER_LISTERS:
        raise Forbidden(f"role {actor.role} may not list party members")
    return visible_members(actor)


def can_see(session: Session, actor: Actor, case: Case) -> bool:
    if actor.role == "sponsor":
        query = select(col(Case.id)).where(Case.id == case.id, visible_cases(actor))
        return session.exec(query).first() is not None
    return actor.role == "admin" or actor.acts_for(case.org_path)


def check_may_record(actor: Actor, acted_by: str) -> None:
    """Raise Forbidden unless the actor's role records this kind of event."""
    if actor.role not in RECORDERS[acted_by]:
        raise Forbidden(f"role {actor.role} may not record {acted_by} events")
