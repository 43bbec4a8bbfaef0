"""The organisation tree: committees, grassroots committees and cells, read by everyone,
changed by admins through these actions (each logged in the admin log).

An organisation keeps its place in the tree once created: its `path`, copied into
cases for scoping, would otherwise have to be rewritten. So its kind and parent are
given once; its name and whether it may decide admissions (`may_admit`, read by the
guard `competent_authority`) may change.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from workflow import schema
from workflow.access import Actor, Forbidden
from workflow.directory import admin_log
from workflow.engine import Engine, NotFound
from workflow.models import Organisation
from workflow.process import FieldSpec
from workflow.schema import InvalidData

ORGANISATION_KINDS = ("committee", "grassroots_committee", "cell", "grassroots_cell")
CELL_KINDS = ("cell", "grassroots_cell")
MAX_NAME = 200

NAME = FieldSpec("name", "text", "Tên tổ chức", "Name")
MAY_ADMIT = FieldSpec(
    "may_admit", "bool", "Có thẩm quyền kết nạp", "May admit", required=False, default=False
)
ORGANISATION_FIELDS = (
    NAME,
    FieldSpec("kind", "choice", "Loại", "Kind", choices=ORGANISATION_KINDS),
    FieldSpec("parent_id", "organisation", "Trực thuộc", "Parent", required=False),
    MAY_ADMIT,
)
CHANGEABLE_FIELDS = (NAME, MAY_ADMIT)  # kind and parent fix the place in the tree
LOGGED = ("name", "kind", "parent_id", "may_admit", "path")


def check_may_change(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden(f"role {actor.role} may not change the organisation tree")


def organisations(session: Session) -> list[Organisation]:
    """The whole tree, root first: every user may need a cell outside their own (transfers)."""
    return list(session.exec(select(Organisation).order_by(col(Organisation.path))))


def add_organisation(engine: Engine, data: Any, *, actor: Actor) -> Organisation:
    """A new organisation under `parent_id` (none: a root committee)."""
    check_may_change(actor)
    parsed = schema.parse(ORGANISATION_FIELDS, data)
    _check_name(parsed["name"])
    with engine.session() as session:
        parent = _parent(session, parsed["parent_id"], parsed["kind"])
        org = Organisation(
            name=parsed["name"],
            kind=parsed["kind"],
            parent_id=parent.id if parent else None,
            may_admit=parsed["may_admit"],
        )
        session.add(org)
        session.flush()
        # the subtree is a path prefix, and the path needs the new id: "/1/4/" + "9/"
        org.path = f"{parent.path if parent else '/'}{org.id}/"
        session.add(org)
        admin_log.append(
            session,
            actor,
            action="add_organisation",
            record=org,
            org_path=org.path,
            before={},
            after=admin_log.snapshot(org, LOGGED),
            at=engine.clock.now(),
        )
        session.commit()
    engine.forget_organisations()  # the engine's cached tree (other processes: the log)
    return org


def change_organisation(engine: Engine, org_id: int, data: Any, *, actor: Actor) -> Organisation:
    """Rename an organisation or change whether it may decide admissions."""
    check_may_change(actor)
    with engine.session() as session:
        org = session.get(Organisation, org_id)
        if org is None:
            raise NotFound(org_id)
        before = admin_log.snapshot(org, LOGGED)
        current = {"name": org.name, "may_admit": org.may_admit}
        parsed = schema.parse(CHANGEABLE_FIELDS, current | _only_changeable(data))
        _check_name(parsed["name"])
        org.name, org.may_admit = parsed["name"], parsed["may_admit"]
        session.add(org)
        admin_log.append(
            session,
            actor,
            action="change_organisation",
            record=org,
            org_path=org.path,
            before=before,
            after=admin_log.snapshot(org, LOGGED),
            at=engine.clock.now(),
        )
        session.commit()
    engine.forget_organisations()  # the engine's cached tree (other processes: the log)
    return org


def _only_changeable(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidData("data", "Dữ liệu phải là một đối tượng", "Data must be an object")
    for key in data:
        if key in ("kind", "parent_id", "path"):
            raise InvalidData(
                key,
                "Tổ chức giữ nguyên vị trí trong cây: không đổi được loại và cấp trên",
                "An organisation keeps its place in the tree: its kind and parent stay",
            )
    return dict(data)


def _check_name(name: str) -> None:
    if len(name) > MAX_NAME:
        raise InvalidData(
            "name",
            f"Tên tổ chức tối đa {MAX_NAME} ký tự",
            f"The name has at most {MAX_NAME} characters",
        )


def _parent(session: Session, parent_id: int | None, kind: str) -> Organisation | None:
    """The parent, if the tree allows one of `kind` under it (InvalidData otherwise)."""
    if parent_id is None:
        if kind in CELL_KINDS:
            raise InvalidData(
                "parent_id",
                "Chi bộ phải trực thuộc một đảng ủy",
                "A cell belongs to a committee",
            )
        return None
    parent = session.get(Organisation, parent_id)
    if parent is None:
        raise InvalidData(
            "parent_id",
            f"Không có tổ chức số {parent_id}",
            f"There is no organisation {parent_id}",
        )
    if parent.kind in CELL_KINDS:
        raise InvalidData(
            "parent_id",
            "Chi bộ không có tổ chức trực thuộc",
            "A cell has no organisations below it",
        )
    return parent


# A committee (cấp ủy) leads a party organisation (đảng bộ); the articles count the
# members of the đảng bộ: "Huyện ủy Hiệp Hòa" → "Đảng bộ huyện Hiệp Hòa".
COMMITTEE_TO_ORGANISATION = (
    ("Đảng ủy ", "Đảng bộ "),
    ("Tỉnh ủy ", "Đảng bộ tỉnh "),
    ("Thành ủy ", "Đảng bộ thành phố "),
    ("Huyện ủy ", "Đảng bộ huyện "),
    ("Quận ủy ", "Đảng bộ quận "),
    ("Thị ủy ", "Đảng bộ thị xã "),
)


def party_organisation_name(committee: str) -> str:
    """The party organisation a committee leads, named as the articles name it; the old
    spelling "uỷ" is read as "ủy"."""
    name = committee.strip().replace("uỷ", "ủy").replace("Uỷ", "Ủy")
    for prefix, replacement in COMMITTEE_TO_ORGANISATION:
        if name.startswith(prefix):
            return replacement + name[len(prefix) :]
    return committee.strip()
