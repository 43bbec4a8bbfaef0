"""Administration: users, organisations and party members; rule parameters read-only.

These rows are reference data, not cases: an admin writes them directly. Cases never
change here. An organisation keeps its place in the tree once created (its `path`,
copied into cases for scoping, would otherwise have to be rewritten).
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, func, select
from werkzeug.security import generate_password_hash

from web.auth import roles_required
from web.context import engine
from web.forms import iso_date
from workflow.access import ROLES
from workflow.models import Case, Member, Organisation, User
from workflow.schema import InvalidData

bp = Blueprint("admin", __name__, url_prefix="/admin")
KINDS: dict[str, Any] = {
    "committee": _l("Party committee"),
    "grassroots_committee": _l("Grassroots committee"),
    "cell": _l("Party cell"),
    "grassroots_cell": _l("Grassroots party cell"),
}
MEMBER_STATUSES = ("official", "probationary", "removed")
MIN_PASSWORD = 10

Errors = dict[str, str]


@bp.app_context_processor
def _admin_helpers() -> dict[str, Any]:
    return {"kind_label": lambda kind: str(KINDS.get(kind, kind))}


@bp.route("/")
@roles_required("admin")
def index() -> ResponseReturnValue:
    params = engine().params
    with engine().session() as session:
        counts = {
            "users": session.exec(select(func.count()).select_from(User)).one(),
            "organisations": session.exec(select(func.count()).select_from(Organisation)).one(),
            "members": session.exec(select(func.count()).select_from(Member)).one(),
            "cases": session.exec(select(func.count()).select_from(Case)).one(),
        }
    rules = [(f.name, _show(getattr(params, f.name))) for f in dataclass_fields(params)]
    return render_template("admin/index.html", counts=counts, rules=rules)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


# ── organisations ────────────────────────────────────────────────────────
@bp.route("/organisations", methods=["GET", "POST"])
@roles_required("admin")
def organisations() -> ResponseReturnValue:
    errors: Errors = {}
    values = request.form if request.method == "POST" else {}
    with engine().session() as session:
        if request.method == "POST":
            errors = _create_organisation(session, request.form)
            if not errors:
                flash(_("Organisation created."), "success")
                return redirect(url_for("admin.organisations"))
        tree = list(session.exec(select(Organisation).order_by(col(Organisation.path))))
    depth = {o.id: o.path.count("/") - 2 for o in tree}
    status = 400 if errors else 200
    return render_template(
        "admin/organisations.html",
        tree=tree,
        depth=depth,
        errors=errors,
        values=values,
        kinds=KINDS,
    ), status


def _create_organisation(session: Session, form: Any) -> Errors:
    errors: Errors = {}
    name = (form.get("name") or "").strip()
    kind = form.get("kind", "")
    parent_id = _int(form.get("parent_id"))
    if not name or len(name) > 200:
        errors["name"] = _("Enter a name (at most 200 characters).")
    if kind not in KINDS:
        errors["kind"] = _("Choose the kind of organisation.")
    parent = session.get(Organisation, parent_id) if parent_id else None
    if form.get("parent_id") and parent is None:
        errors["parent_id"] = _("There is no such parent organisation.")
    if parent is not None and parent.kind in ("cell", "grassroots_cell"):
        errors["parent_id"] = _("A party cell cannot have organisations under it.")
    if errors:
        return errors
    org = Organisation(
        name=name,
        kind=kind,
        parent_id=parent.id if parent else None,
        may_admit=form.get("may_admit") == "on",
    )
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"  # the subtree is a path prefix
    session.add(org)
    session.commit()
    return {}


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@roles_required("admin")
def organisation(org_id: int) -> ResponseReturnValue:
    with engine().session() as session:
        org = session.get(Organisation, org_id)
        if org is None:
            abort(404)
        errors: Errors = {}
        if request.method == "POST":
            name = (request.form.get("name") or "").strip()
            if not name or len(name) > 200:
                errors["name"] = _("Enter a name (at most 200 characters).")
            else:
                org.name = name
                org.may_admit = request.form.get("may_admit") == "on"
                session.add(org)
                session.commit()
                flash(_("Organisation saved."), "success")
                return redirect(url_for("admin.organisations"))
        parent = session.get(Organisation, org.parent_id) if org.parent_id else None
    return render_template("admin/organisation.html", org=org, parent=parent, errors=errors), (
        400 if errors else 200
    )


# ── members ──────────────────────────────────────────────────────────────
@bp.route("/members", methods=["GET", "POST"])
@roles_required("admin")
def members() -> ResponseReturnValue:
    errors: Errors = {}
    values: Any = request.form if request.method == "POST" else {}
    cell_filter = _int(request.args.get("cell"))
    with engine().session() as session:
        if request.method == "POST":
            member = Member(full_name="", cell_id=0)
            errors = _fill_member(session, member, request.form, new=True)
            if not errors:
                session.add(member)
                session.commit()
                flash(_("Member %(name)s added.", name=member.full_name), "success")
                return redirect(url_for("admin.members", cell=member.cell_id))
        query = (
            select(Member, Organisation.name)
            .join(Organisation, col(Organisation.id) == Member.cell_id)
            .order_by(col(Organisation.name), col(Member.full_name))
        )
        if cell_filter:
            query = query.where(Member.cell_id == cell_filter)
        rows = list(session.exec(query.limit(500)).all())
        cells = _cells(session)
    return render_template(
        "admin/members.html",
        rows=rows,
        cells=cells,
        cell_filter=cell_filter,
        errors=errors,
        values=values,
        statuses=MEMBER_STATUSES,
    ), (400 if errors else 200)


@bp.route("/members/<int:member_id>", methods=["GET", "POST"])
@roles_required("admin")
def member(member_id: int) -> ResponseReturnValue:
    with engine().session() as session:
        record = session.get(Member, member_id)
        if record is None:
            abort(404)
        errors: Errors = {}
        if request.method == "POST":
            errors = _fill_member(session, record, request.form, new=False)
            if not errors:
                session.add(record)
                session.commit()
                flash(_("Member %(name)s saved.", name=record.full_name), "success")
                return redirect(url_for("admin.members", cell=record.cell_id))
            session.rollback()
            record = session.get(Member, member_id)
        cells = _cells(session)
    return render_template(
        "admin/member.html",
        member=record,
        cells=cells,
        errors=errors,
        values=request.form if errors else {},
        statuses=MEMBER_STATUSES,
    ), (400 if errors else 200)


def _fill_member(session: Session, member: Member, form: Any, new: bool) -> Errors:
    errors: Errors = {}
    name = (form.get("full_name") or "").strip()
    if not name or len(name) > 200:
        errors["full_name"] = _("Enter the full name (at most 200 characters).")
    status = form.get("status", "")
    if status not in MEMBER_STATUSES:
        errors["status"] = _("Choose a status.")
    cell_id = _int(form.get("cell_id")) if new else member.cell_id
    cell = session.get(Organisation, cell_id) if cell_id else None
    if cell is None or cell.kind not in ("cell", "grassroots_cell"):
        errors["cell_id"] = _("Choose the member's party cell.")
    dates: dict[str, date | None] = {}
    for key, vi, en in (
        ("joined_on", "Ngày vào Đảng", "Joined on"),
        ("official_since", "Ngày chính thức", "Official since"),
    ):
        raw = (form.get(key) or "").strip()
        try:
            dates[key] = date.fromisoformat(iso_date(raw, key, vi, en)) if raw else None
        except InvalidData as problem:
            errors[key] = problem.message_en if _is_en() else problem.message_vi
    if status == "official" and not dates.get("official_since") and "official_since" not in errors:
        errors["official_since"] = _("An official member needs the date they became official.")
    if errors:
        return errors
    member.full_name = name
    member.status = status
    assert cell is not None and cell.id is not None
    member.cell_id = cell.id
    member.joined_on = dates["joined_on"]
    member.official_since = dates["official_since"]
    return {}


def _is_en() -> bool:
    from web.context import locale  # noqa: PLC0415

    return locale() == "en"


# ── users ────────────────────────────────────────────────────────────────
@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users() -> ResponseReturnValue:
    errors: Errors = {}
    values: Any = request.form if request.method == "POST" else {}
    with engine().session() as session:
        if request.method == "POST":
            user = User(username="", role="")
            errors = _fill_user(session, user, request.form, new=True)
            if not errors:
                session.add(user)
                session.commit()
                flash(_("User %(name)s created.", name=user.username), "success")
                return redirect(url_for("admin.users"))
        rows = list(
            session.exec(
                select(User, Organisation.name)
                .join(Organisation, col(Organisation.id) == User.organisation_id, isouter=True)
                .order_by(col(User.username))
            ).all()
        )
        organisations = list(session.exec(select(Organisation).order_by(col(Organisation.path))))
    return render_template(
        "admin/users.html",
        rows=rows,
        organisations=organisations,
        roles=ROLES,
        errors=errors,
        values=values,
    ), (400 if errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int) -> ResponseReturnValue:
    with engine().session() as session:
        record = session.get(User, user_id)
        if record is None:
            abort(404)
        errors: Errors = {}
        if request.method == "POST":
            errors = _fill_user(session, record, request.form, new=False)
            if not errors:
                session.add(record)
                session.commit()
                flash(_("User %(name)s saved.", name=record.username), "success")
                return redirect(url_for("admin.users"))
            session.rollback()
            record = session.get(User, user_id)
        organisations = list(session.exec(select(Organisation).order_by(col(Organisation.path))))
        member_record = (
            session.get(Member, record.member_id) if record and record.member_id else None
        )
    return render_template(
        "admin/user.html",
        user=record,
        member=member_record,
        organisations=organisations,
        roles=ROLES,
        errors=errors,
        values=request.form if errors else {},
    ), (400 if errors else 200)


def _fill_user(session: Session, user: User, form: Any, new: bool) -> Errors:
    errors: Errors = {}
    if new:
        username = (form.get("username") or "").strip()
        if (
            not username
            or len(username) > 64
            or not username.replace("-", "").replace(".", "").replace("_", "").isalnum()
        ):
            errors["username"] = _("Use 1 to 64 letters, digits, dots, dashes or underscores.")
        elif session.exec(select(User.id).where(User.username == username)).first():
            errors["username"] = _("This username is taken.")
    role = form.get("role", "")
    if role not in ROLES:
        errors["role"] = _("Choose a role.")
    org_id = _int(form.get("organisation_id"))
    org = session.get(Organisation, org_id) if org_id else None
    if role != "admin" and org is None:
        errors["organisation_id"] = _("Choose the organisation this user acts for.")
    member_id = _int(form.get("member_id"))
    if form.get("member_id") and (member_id is None or session.get(Member, member_id) is None):
        errors["member_id"] = _("There is no party member with this number.")
    if role == "sponsor" and member_id is None:
        errors["member_id"] = _("A sponsor or helper must be linked to their party member record.")
    password = form.get("password") or ""
    if (new or password) and len(password) < MIN_PASSWORD:
        errors["password"] = _("The password needs at least %(n)s characters.", n=MIN_PASSWORD)
    email = (form.get("email") or "").strip()
    if email and ("@" not in email or len(email) > 200):
        errors["email"] = _("Enter a valid e-mail address, or leave it empty.")
    if errors:
        return errors
    if new:
        user.username = (form.get("username") or "").strip()
    user.full_name = (form.get("full_name") or "").strip()[:200]
    user.role = role
    user.organisation_id = org.id if org else None
    user.member_id = member_id
    user.email = email or None
    user.daily_digest = form.get("daily_digest") == "on"
    if not new:
        user.active = form.get("active") == "on"
    if password:
        user.password_hash = generate_password_hash(password)
    return {}


def _cells(session: Session) -> list[Organisation]:
    query = select(Organisation).where(col(Organisation.kind).in_(("cell", "grassroots_cell")))
    return list(session.exec(query.order_by(col(Organisation.name))))


def _int(raw: str | None) -> int | None:
    if raw is None or not str(raw).strip().isdigit():
        return None
    value = int(str(raw).strip())
    return value if 0 < value < 2**31 else None
