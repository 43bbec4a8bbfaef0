"""The ORM effects as they were (commit caef150), for the legacy engine beside them.

What each accepted event records on the case: the dates the rules and reports need,
and the rows it creates (sponsorships, helpers, the new member, class attendance).
Called by the engine inside its transaction; the guards have already passed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from workflow import enrolment, rules
from workflow.models import (
    Case,
    HelperAssignment,
    Member,
    Organisation,
    Person,
    Sponsorship,
)

if TYPE_CHECKING:
    from datetime import date

    from workflow.config import RuleParameters


class EffectContext(Protocol):
    case: Case
    data: dict[str, Any]
    on: date
    params: RuleParameters
    session: Session


def nothing(ctx: EffectContext) -> None:
    """Events that change only the state."""


def _attend(ctx: EffectContext, kind: str, name: str | None, issuer: str) -> None:
    """The class as workflow.enrolment resolves it (the class lookup is not the
    engine's: both engines share it), the case among its attendees."""
    assert ctx.case.id is not None
    course_id = enrolment.class_for_enrolment(
        ctx.session,
        kind,
        ctx.data.get("class_id"),
        ctx.data.get("class_name"),
        ctx.on,
        ctx.case.cell_id,
        issuer=issuer,
        holder_id=ctx.data.get("class_organisation_id"),
    )
    enrolment.attend(ctx.session, course_id, ctx.case.id)


def _grassroots_id(ctx: EffectContext) -> int | None:
    cell = ctx.session.get(Organisation, ctx.case.cell_id)
    return cell.parent_id if cell and cell.parent_id else ctx.case.cell_id


def enrol_in_class(ctx: EffectContext) -> None:
    ctx.case.class_started_on = ctx.on
    _attend(ctx, "awareness", ctx.data.get("class_name"), ctx.data.get("issuer") or "")


def pass_class(ctx: EffectContext) -> None:
    ctx.case.certificate_on = ctx.on
    ctx.case.certificate_no = ctx.data["certificate_no"]


def assign_sponsors(ctx: EffectContext) -> None:
    assert ctx.case.id is not None
    for sponsor in ctx.data["sponsors"]:
        ctx.session.add(
            Sponsorship(
                case_id=ctx.case.id,
                member_id=sponsor["member_id"],
                alongside_since=sponsor["alongside_since"],
            )
        )
    union = ctx.data.get("union_resolution")
    ctx.case.union_resolution_ref = f"{union['kind']}:{union['ref']}" if union else None


def submit_dossier(ctx: EffectContext) -> None:
    ctx.case.verification_requested_on = ctx.data.get("requests_sent_on") or ctx.on


def cell_vote(ctx: EffectContext) -> None:
    ctx.case.cell_resolution_on = ctx.on


def committee_vote(ctx: EffectContext) -> None:
    ctx.case.committee_resolution_on = ctx.on


def decide_admission(ctx: EffectContext) -> None:
    ctx.case.decision_on = ctx.on
    ctx.case.decision_no = ctx.data["decision_no"]
    ctx.case.decision_received_on = ctx.data.get("received_on") or ctx.on


def hold_ceremony(ctx: EffectContext) -> None:
    """The candidate becomes a probationary member of the cell (Charter art. 5)."""
    case = ctx.case
    assert case.id is not None and case.decision_on is not None
    case.ceremony_on = ctx.on
    case.probation_end = rules.probation_end(ctx.on, ctx.params.probation_months)
    person = ctx.session.get(Person, case.person_id)
    assert person is not None
    member = Member(
        full_name=person.full_name,
        cell_id=case.cell_id,
        status="probationary",
        joined_on=rules.seniority_start(case.decision_on),
        person_id=person.id,
    )
    ctx.session.add(member)
    ctx.session.flush()
    case.member_id = member.id
    for helper_id in ctx.data["helpers"]:
        ctx.session.add(HelperAssignment(case_id=case.id, member_id=helper_id))


def complete_theory_class(ctx: EffectContext) -> None:
    ctx.case.theory_class_on = ctx.on
    _attend(ctx, "theory", ctx.data.get("class_name"), "")


def record_self_review(ctx: EffectContext) -> None:
    ctx.case.self_review_on = ctx.on


def record_helper_comment(ctx: EffectContext) -> None:
    ctx.case.helper_comment_on = ctx.on


def cell_confirm_vote(ctx: EffectContext) -> None:
    ctx.case.confirmation_cell_resolution_on = ctx.on


def failed_confirm_vote(ctx: EffectContext) -> None:
    """After too many failed confirmation votes the competent authority takes over."""
    ctx.case.failed_confirm_votes += 1
    if ctx.case.failed_confirm_votes >= ctx.params.confirm_vote_attempts:
        ctx.case.escalated = True


def confirm(ctx: EffectContext) -> None:
    """Official from the day probation ended (QĐ 294 §4.2b), not from the decision."""
    case = ctx.case
    assert case.probation_end is not None
    case.official_on = rules.official_date(case.probation_end)
    _set_member(ctx, "official", case.official_on)
    close(ctx)


def remove(ctx: EffectContext) -> None:
    _set_member(ctx, "removed", None)
    close(ctx)


def _set_member(ctx: EffectContext, status: str, official_since: date | None) -> None:
    member = ctx.session.get(Member, ctx.case.member_id) if ctx.case.member_id else None
    if member is not None:
        member.status = status
        member.official_since = official_since
        ctx.session.add(member)


def close(ctx: EffectContext) -> None:
    ctx.case.open = False
    ctx.case.closed_on = ctx.on


def transfer(ctx: EffectContext) -> None:
    cell = ctx.session.get(Organisation, ctx.data["to_cell_id"])
    assert cell is not None
    ctx.case.cell_id = ctx.data["to_cell_id"]
    ctx.case.org_path = cell.path
    member = ctx.session.get(Member, ctx.case.member_id) if ctx.case.member_id else None
    if member is not None:
        member.cell_id = ctx.data["to_cell_id"]
        ctx.session.add(member)


def grant_extension(ctx: EffectContext) -> None:
    granted = json.loads(ctx.case.extensions or "{}")
    granted[ctx.data["deadline"]] = granted.get(ctx.data["deadline"], 0) + ctx.data["working_days"]
    ctx.case.extensions = json.dumps(granted, sort_keys=True)


def correct_particulars(ctx: EffectContext) -> None:
    person = ctx.session.get(Person, ctx.case.person_id)
    assert person is not None
    for name, value in ctx.data["person"].items():
        setattr(person, name, value)
    ctx.session.add(person)
