"""What each accepted event records on the case: the dates the rules and reports need,
and the rows it creates (sponsorships, helpers, the new member, class attendance).
Called by the engine inside its transaction; the guards have already passed.

An effect sets attributes of `ctx.case` (the engine writes the case row once, after
the effect) and writes any other row with the context's three explicit statements:
`ctx.find` (the first row with these values, or None), `ctx.insert` (returns the new
row's id) and `ctx.update` (one row by id). The engine runs them as compiled Core
statements in its transaction; its bulk replay runs the very same effects on a
context that buffers them. An effect that changes the person, say, is one line:
`ctx.update(Person, ctx.case.person_id, village=ctx.data["village"])`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection
from sqlmodel import SQLModel

from workflow import enrolment, rules
from workflow.models import (
    Attendance,
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
    connection: Connection  # the act's transaction
    data: dict[str, Any]
    on: date
    params: RuleParameters

    @property
    def person(self) -> Person: ...
    def organisation(self, org_id: int) -> Organisation | None: ...
    @property
    def classes(self) -> enrolment.Classes:
        """Where a class is resolved (the act's transaction, or a replay's memory)."""

    def find(self, table: type[SQLModel], **where: Any) -> Any | None:
        """The first row of `table` with these column values (attributes by name)."""

    def insert(self, table: type[SQLModel], **values: Any) -> int:
        """Insert one row; its id."""

    def update(self, table: type[SQLModel], row_id: int, **values: Any) -> None:
        """Set these columns of the row with this id."""


def nothing(ctx: EffectContext) -> None:
    """Events that change only the state."""


def _attend(ctx: EffectContext, kind: str) -> None:
    """The class the data names, the case among its attendees. workflow.enrolment
    resolves the class in `ctx.classes` — the act's transaction, where a new class is
    written at once, or a bulk replay's classes, where the next case finds it."""
    assert ctx.case.id is not None
    course_id = enrolment.class_for_enrolment(
        ctx.classes,
        kind,
        ctx.data.get("class_id"),
        ctx.data.get("class_name"),
        ctx.on,
        ctx.case.cell_id,
        issuer=ctx.data.get("issuer") or "",
        holder_id=ctx.data.get("class_organisation_id"),
        line=enrolment.line_from(ctx.organisation, ctx.case.cell_id),  # the cached tree
    )
    if ctx.find(Attendance, course_id=course_id, case_id=ctx.case.id) is None:
        ctx.insert(Attendance, course_id=course_id, case_id=ctx.case.id)


def enrol_in_class(ctx: EffectContext) -> None:
    ctx.case.class_started_on = ctx.on
    _attend(ctx, "awareness")


def pass_class(ctx: EffectContext) -> None:
    ctx.case.certificate_on = ctx.on
    ctx.case.certificate_no = ctx.data["certificate_no"]


def assign_sponsors(ctx: EffectContext) -> None:
    assert ctx.case.id is not None
    for sponsor in ctx.data["sponsors"]:
        ctx.insert(
            Sponsorship,
            case_id=ctx.case.id,
            member_id=sponsor["member_id"],
            alongside_since=sponsor["alongside_since"],
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
    person = ctx.person
    case.member_id = ctx.insert(
        Member,
        full_name=person.full_name,
        cell_id=case.cell_id,
        status="probationary",
        joined_on=rules.seniority_start(case.decision_on),
        official_since=None,
        person_id=person.id,
    )
    for helper_id in ctx.data["helpers"]:
        ctx.insert(HelperAssignment, case_id=case.id, member_id=helper_id)


def complete_theory_class(ctx: EffectContext) -> None:
    ctx.case.theory_class_on = ctx.on
    _attend(ctx, "theory")


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
    if ctx.case.member_id:
        ctx.update(Member, ctx.case.member_id, status=status, official_since=official_since)


def close(ctx: EffectContext) -> None:
    ctx.case.open = False
    ctx.case.closed_on = ctx.on


def transfer(ctx: EffectContext) -> None:
    cell = ctx.organisation(ctx.data["to_cell_id"])
    assert cell is not None
    ctx.case.cell_id = ctx.data["to_cell_id"]
    ctx.case.org_path = cell.path
    if ctx.case.member_id:
        ctx.update(Member, ctx.case.member_id, cell_id=ctx.data["to_cell_id"])


def grant_extension(ctx: EffectContext) -> None:
    granted = json.loads(ctx.case.extensions or "{}")
    granted[ctx.data["deadline"]] = granted.get(ctx.data["deadline"], 0) + ctx.data["working_days"]
    ctx.case.extensions = json.dumps(granted, sort_keys=True)


def correct_particulars(ctx: EffectContext) -> None:
    """The candidate's particulars as corrected: the fields given, and only those (the
    history row keeps them; the values they replace are the earlier rows')."""
    if ctx.data["person"]:
        ctx.update(Person, ctx.case.person_id, **ctx.data["person"])
