"""Whom a reminder tells: the owners of the deadline (process.Deadline.owners: the
cell's secretary; helpers / sponsors of the case; committee officers of the competent
authority — the nearest ancestor that `may_admit`), and on escalation the officers of
the organisation above, the competent authority's officers and the secretary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, true
from sqlmodel import Session, col, select

from workflow.models import HelperAssignment, Organisation, Sponsorship, User
from workflow.reminders.due import Due
from workflow.reminders.sql import chunks


@dataclass
class Audience:
    """Everything needed to name each reminder's recipients, loaded in a few queries."""

    orgs: dict[int, Organisation] = field(default_factory=dict)
    helpers: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    sponsors: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    users: dict[int, User] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, dues: Sequence[Due]) -> Audience:
        audience = cls()
        case_ids = sorted({d.case_id for d in dues})
        org_ids = sorted({int(i) for d in dues for i in d.org_path.strip("/").split("/") if i})
        audience._load_orgs(session, org_ids)
        audience._load_people_of_cases(session, case_ids)
        audience._load_users(session)
        return audience

    def _load_orgs(self, session: Session, org_ids: list[int]) -> None:
        for chunk in chunks(org_ids):
            for org in session.exec(select(Organisation).where(col(Organisation.id).in_(chunk))):
                assert org.id is not None
                self.orgs[org.id] = org

    def _load_people_of_cases(self, session: Session, case_ids: list[int]) -> None:
        for chunk in chunks(case_ids):
            helpers = select(HelperAssignment.case_id, HelperAssignment.member_id).where(
                col(HelperAssignment.case_id).in_(chunk)
            )
            for case_id, member_id in session.exec(helpers):
                self.helpers[case_id].add(member_id)
            sponsors = select(Sponsorship.case_id, Sponsorship.member_id).where(
                col(Sponsorship.case_id).in_(chunk)
            )
            for case_id, member_id in session.exec(sponsors):
                self.sponsors[case_id].add(member_id)

    def _load_users(self, session: Session) -> None:
        """The active secretaries and officers of the organisations, and the users who
        are the helpers and sponsors."""
        member_ids = sorted(set().union(*self.helpers.values(), *self.sponsors.values()))
        conditions = [
            and_(col(User.role).in_(("secretary", "officer")), col(User.organisation_id).in_(c))
            for c in chunks(sorted(self.orgs))
        ] + [col(User.member_id).in_(c) for c in chunks(member_ids)]
        if not conditions:
            return
        query = select(User).where(col(User.active) == true(), or_(*conditions))
        for user in session.exec(query):
            assert user.id is not None
            self.users[user.id] = user

    # ── the organisations of a case ──────────────────────────────────────
    def chain(self, due: Due) -> list[Organisation]:
        """The case's cell and its ancestors, nearest first."""
        ids = [int(i) for i in due.org_path.strip("/").split("/") if i]
        return [self.orgs[i] for i in reversed(ids) if i in self.orgs]

    def competent_authority(self, due: Due) -> Organisation | None:
        for org in self.chain(due)[1:]:
            if org.may_admit:
                return org
        return None

    def above(self, due: Due) -> Organisation | None:
        """Whom an escalation goes to: the organisation above the one that is late."""
        chain = self.chain(due)
        late = self.competent_authority(due) if "authority" in due.spec.owners else None
        late = late or (chain[0] if chain else None)
        if late is None or late.parent_id is None:
            return None
        return self.orgs.get(late.parent_id)

    # ── the people ───────────────────────────────────────────────────────
    def _with_role(self, role: str, org: Organisation | None) -> set[int]:
        if org is None:
            return set()
        return {
            uid
            for uid, user in self.users.items()
            if user.role == role and user.organisation_id == org.id
        }

    def _members(self, member_ids: set[int]) -> set[int]:
        return {uid for uid, user in self.users.items() if user.member_id in member_ids}

    def recipients(self, due: Due) -> list[User]:
        cell = self.orgs.get(due.cell_id)
        secretaries = self._with_role("secretary", cell)
        authority = self._with_role("officer", self.competent_authority(due))
        if due.stage == "escalated":
            ids = secretaries | authority | self._with_role("officer", self.above(due))
        else:
            ids = set()
            for owner in due.spec.owners:
                ids |= {
                    "secretary": secretaries,
                    "helper": self._members(self.helpers.get(due.case_id, set())),
                    "sponsor": self._members(self.sponsors.get(due.case_id, set())),
                    "authority": authority,
                }.get(owner, set())
        return [self.users[uid] for uid in sorted(ids)]
