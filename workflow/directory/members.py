"""Party members of the cells: read within scope, added and changed by admins through
these actions (each logged in the admin log).

A member's `status` decides the guards `sponsor_is_official` and
`committee_two_thirds`, so its every change is on record with its old value.
Members admitted through Ketnap are created by the engine (effects.py) instead.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from workflow import access, hygiene, schema
from workflow.access import Actor, Forbidden
from workflow.directory import admin_log
from workflow.directory.organisations import CELL_KINDS
from workflow.engine import Engine, NotFound
from workflow.models import Case, HelperAssignment, Member, Organisation, Sponsorship
from workflow.process import FieldSpec
from workflow.schema import InvalidData

MEMBER_STATUSES = ("official", "probationary", "removed")
MAX_NAME = hygiene.NAME_MAX

MEMBER_FIELDS = (
    FieldSpec("full_name", "text", "Họ và tên", "Full name"),
    FieldSpec("cell_id", "organisation", "Chi bộ", "Cell"),
    FieldSpec(
        "status",
        "choice",
        "Tình trạng",
        "Status",
        required=False,
        default="official",
        choices=MEMBER_STATUSES,
    ),
    FieldSpec("joined_on", "date", "Ngày vào Đảng", "Joined on", required=False),
    FieldSpec("official_since", "date", "Ngày chính thức", "Official since", required=False),
)
LOGGED = tuple(spec.name for spec in MEMBER_FIELDS)


def check_may_change(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden(f"role {actor.role} may not change party members")


def members(session: Session, actor: Actor, cell_id: int | None = None) -> list[Member]:
    """The members the actor may list (access.listed_members, the export's rule: Forbidden
    to a sponsor), optionally of one cell."""
    query = select(Member).where(access.listed_members(actor))
    if cell_id is not None:
        query = query.where(Member.cell_id == cell_id)
    return list(session.exec(query.order_by(col(Member.id))))


def pickable(session: Session, actor: Actor, case: Case) -> list[Member]:
    """Whom a form of `case` offers as sponsor or helper, by name: the members of its
    cell and those already sponsoring or helping it, as far as the actor may see them
    (access.visible_members) — never someone the engine would refuse as out of scope."""
    linked = or_(
        col(Member.id).in_(select(Sponsorship.member_id).where(Sponsorship.case_id == case.id)),
        col(Member.id).in_(
            select(HelperAssignment.member_id).where(HelperAssignment.case_id == case.id)
        ),
    )
    query = select(Member).where(
        or_(col(Member.cell_id) == case.cell_id, linked), access.visible_members(actor)
    )
    return list(session.exec(query.order_by(col(Member.full_name), col(Member.id))))


def add_member(engine: Engine, data: Any, *, actor: Actor) -> Member:
    check_may_change(actor)
    parsed = valid(data, engine.clock.today())
    with engine.session() as session:
        cell = _cell(session, parsed["cell_id"])
        member = new_member(parsed)
        session.add(member)
        session.flush()
        log_added(session, actor, [(member, cell.path)], at=engine.clock.now())
        session.commit()
    return member


def new_member(parsed: dict[str, Any], person_id: int | None = None) -> Member:
    """A member from fields `valid` has checked, not yet added to a session."""
    member = Member(full_name="", cell_id=parsed["cell_id"], person_id=person_id)
    _fill(member, parsed)
    return member


def log_added(
    session: Session,
    actor: Actor,
    added: list[tuple[Member, str]],
    *,
    at: datetime,
    action: str = "add_member",
) -> None:
    """Log new members (flushed, each with its cell's path) in the caller's transaction:
    the one action and the import (action "import_member") share this path."""
    with session.no_autoflush:  # the entries go in together, not one flush per entry
        for member, org_path in added:
            admin_log.append(
                session,
                actor,
                action=action,
                record=member,
                org_path=org_path,
                before={},
                after=admin_log.snapshot(member, LOGGED),
                at=at,
            )


def change_member(engine: Engine, member_id: int, data: Any, *, actor: Actor) -> Member:
    """Change what `data` names (a field it leaves out keeps its value): a status
    changed to official, a correction of a date, a transfer to another cell."""
    check_may_change(actor)
    if not isinstance(data, dict):
        raise InvalidData("data", "Dữ liệu phải là một đối tượng", "Data must be an object")
    with engine.session() as session:
        member = session.get(Member, member_id)
        if member is None:
            raise NotFound(member_id)
        before = admin_log.snapshot(member, LOGGED)
        parsed = valid(before | data, engine.clock.today())
        cell = _cell(session, parsed["cell_id"])
        _fill(member, parsed)
        session.add(member)
        _log(session, actor, engine, "change_member", member, cell, before)
        session.commit()
    return member


def valid(data: Any, today: date) -> dict[str, Any]:
    """The member's fields, typed and consistent with one another (InvalidData if not);
    their dates have happened by `today`."""
    parsed = schema.parse(MEMBER_FIELDS, data)
    for name, spec, day in schema.dates(MEMBER_FIELDS, parsed):
        if day > today:
            raise InvalidData(
                name,
                f"{spec.label_vi}: ngày {day:%d/%m/%Y} ở tương lai; hôm nay là {today:%d/%m/%Y}",
                f"{spec.label_en}: {day:%d/%m/%Y} is in the future; today is {today:%d/%m/%Y}",
            )
    if len(parsed["full_name"]) > MAX_NAME:
        raise InvalidData(
            "full_name",
            f"Họ và tên tối đa {MAX_NAME} ký tự",
            f"The full name has at most {MAX_NAME} characters",
        )
    joined, official = parsed["joined_on"], parsed["official_since"]
    if parsed["status"] == "official" and official is None:
        raise InvalidData(
            "official_since",
            "Đảng viên chính thức cần có ngày được công nhận chính thức",
            "An official member needs the date they became official",
        )
    if joined and official and official < joined:
        raise InvalidData(
            "official_since",
            "Ngày chính thức không được trước ngày vào Đảng",
            "Official since cannot precede the day the member joined",
        )
    if parsed["status"] == "probationary":
        parsed["official_since"] = None  # not official yet: a stale date would mislead
    return parsed


def _cell(session: Session, cell_id: int) -> Organisation:
    cell = session.get(Organisation, cell_id)
    if cell is None or cell.kind not in CELL_KINDS:
        raise InvalidData("cell_id", f"Không có chi bộ số {cell_id}", f"There is no cell {cell_id}")
    return cell


def _fill(member: Member, parsed: dict[str, Any]) -> None:
    member.full_name = parsed["full_name"]
    member.cell_id = parsed["cell_id"]
    member.status = parsed["status"]
    member.joined_on = parsed["joined_on"]
    member.official_since = parsed["official_since"]


def _log(
    session: Session,
    actor: Actor,
    engine: Engine,
    action: str,
    member: Member,
    cell: Organisation,
    before: admin_log.Values,
) -> None:
    admin_log.append(
        session,
        actor,
        action=action,
        record=member,
        org_path=cell.path,
        before=before,
        after=admin_log.snapshot(member, LOGGED),
        at=engine.clock.now(),
    )
