"""The organisation tree and its party members: listed within scope, written by admins.

Not cases (those change only through the engine), but the same habits: input is
checked against field specs (so the API publishes the same schema), a bad value
raises InvalidData naming the field, and only an admin writes.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from workflow import access, schema
from workflow.access import Actor, Forbidden
from workflow.models import Member, Organisation
from workflow.process import FieldSpec

ORGANISATION_KINDS = ("committee", "grassroots_committee", "cell", "grassroots_cell")
CELL_KINDS = ("cell", "grassroots_cell")
MEMBER_STATUSES = ("official", "probationary", "removed")

ORGANISATION_FIELDS = (
    FieldSpec("name", "text", "Tên tổ chức", "Name"),
    FieldSpec("kind", "choice", "Loại", "Kind", choices=ORGANISATION_KINDS),
    FieldSpec("parent_id", "organisation", "Trực thuộc", "Parent", required=False),
    FieldSpec(
        "may_admit", "bool", "Có thẩm quyền kết nạp", "May admit", required=False, default=False
    ),
)
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


def _only_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden(f"role {actor.role} may not change the organisation tree")


def organisations(session: Session) -> list[Organisation]:
    """The whole tree, root first: every user may need a cell outside their own (transfers)."""
    return list(session.exec(select(Organisation).order_by(col(Organisation.path))))


def add_organisation(session: Session, actor: Actor, data: Any) -> Organisation:
    _only_admin(actor)
    parsed = schema.parse(ORGANISATION_FIELDS, data)
    parent = None
    if parsed["parent_id"] is not None:
        parent = session.get(Organisation, parsed["parent_id"])
        if parent is None:
            raise schema.InvalidData(
                "parent_id",
                f"Không có tổ chức số {parsed['parent_id']}",
                f"There is no organisation {parsed['parent_id']}",
            )
        if parent.kind in CELL_KINDS:
            raise schema.InvalidData(
                "parent_id",
                "Chi bộ không có tổ chức trực thuộc",
                "A cell has no organisations below it",
            )
    elif parsed["kind"] == "cell":
        raise schema.InvalidData(
            "parent_id", "Chi bộ phải trực thuộc một đảng ủy", "A cell belongs to a committee"
        )
    org = Organisation(
        name=parsed["name"],
        kind=parsed["kind"],
        parent_id=parent.id if parent else None,
        may_admit=parsed["may_admit"],
    )
    session.add(org)
    session.flush()
    # the path needs the new id: "/1/4/" + "9/"
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    session.add(org)
    session.commit()
    return org


def members(session: Session, actor: Actor, cell_id: int | None = None) -> list[Member]:
    """Members of the cells the actor acts for (admins: all), optionally of one cell."""
    query = (
        select(Member)
        .join(Organisation, col(Organisation.id) == Member.cell_id)
        .where(access.visible_organisations(actor))
    )
    if cell_id is not None:
        query = query.where(Member.cell_id == cell_id)
    return list(session.exec(query.order_by(col(Member.id))))


def add_member(session: Session, actor: Actor, data: Any) -> Member:
    _only_admin(actor)
    parsed = schema.parse(MEMBER_FIELDS, data)
    cell = session.get(Organisation, parsed["cell_id"])
    if cell is None or cell.kind not in CELL_KINDS:
        raise schema.InvalidData(
            "cell_id",
            f"Không có chi bộ số {parsed['cell_id']}",
            f"There is no cell {parsed['cell_id']}",
        )
    joined, official = parsed["joined_on"], parsed["official_since"]
    if joined and official and official < joined:
        raise schema.InvalidData(
            "official_since",
            "Ngày chính thức không được trước ngày vào Đảng",
            "Official since cannot precede the day the member joined",
        )
    member = Member(
        full_name=parsed["full_name"],
        cell_id=cell.id or 0,
        status=parsed["status"],
        joined_on=joined,
        official_since=official if parsed["status"] == "official" else None,
    )
    session.add(member)
    session.commit()
    return member
