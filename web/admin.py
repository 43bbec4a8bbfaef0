"""Administration: users, organisations and party members; rule parameters read-only.

A page here only reads the form, calls the action of workflow/directory that makes
the change (it checks, validates, commits and logs the change in the admin log), and
renders: a refused value comes back from the action, in the words the API uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, func, select

from web.auth import roles_required
from web.context import actor, engine, locale
from web.forms import iso_date
from workflow import hygiene, rules
from workflow.access import ROLES
from workflow.directory import member_search
from workflow.directory import members as directory_members
from workflow.directory import organisations as directory_organisations
from workflow.directory import users as directory_users
from workflow.models import Case, Member, Organisation, User
from workflow.schema import InvalidData

bp = Blueprint("admin", __name__, url_prefix="/admin")
KINDS: dict[str, Any] = {
    "committee": _l("Party committee"),
    "grassroots_committee": _l("Grassroots committee"),
    "cell": _l("Party cell"),
    "grassroots_cell": _l("Grassroots party cell"),
}
MEMBER_STATUSES = directory_members.MEMBER_STATUSES

Errors = dict[str, str]


@bp.app_context_processor
def _admin_helpers() -> dict[str, Any]:
    return {"kind_label": lambda kind: str(KINDS.get(kind, kind))}


@bp.route("/")
@roles_required("admin")
def index() -> ResponseReturnValue:
    in_force = rules.book_of(engine().params).on(engine().clock.today())
    with engine().session() as session:
        counts = {
            "users": session.exec(select(func.count()).select_from(User)).one(),
            "organisations": session.exec(select(func.count()).select_from(Organisation)).one(),
            "members": session.exec(select(func.count()).select_from(Member)).one(),
            "cases": session.exec(select(func.count()).select_from(Case)).one(),
        }
    return render_template("admin/index.html", counts=counts, in_force=in_force)


def _attempt(change: Callable[[], Any]) -> tuple[Any, Errors]:
    """Run an action; a refused value comes back as {field: message} for the form."""
    try:
        return change(), {}
    except InvalidData as problem:
        return None, {problem.field: problem.message(locale())}


def _problems(change: Callable[[], Any]) -> Errors:
    return _attempt(change)[1]


def _status(errors: Errors) -> int:
    return 400 if errors else 200


# ── organisations ────────────────────────────────────────────────────────
@bp.route("/organisations", methods=["GET", "POST"])
@roles_required("admin")
def organisations() -> ResponseReturnValue:
    errors: Errors = {}
    if request.method == "POST":
        who, form = actor(), request.form
        errors = _problems(
            lambda: directory_organisations.add_organisation(
                engine(), _organisation_data(form), actor=who
            )
        )
        if not errors:
            flash(_("Organisation created."), "success")
            return redirect(url_for("admin.organisations"))
    with engine().session() as session:
        tree = directory_organisations.organisations(session)
    return render_template(
        "admin/organisations.html",
        tree=tree,
        depth={o.id: o.path.count("/") - 2 for o in tree},
        errors=errors,
        values=request.form if errors else {},
        kinds=KINDS,
    ), _status(errors)


def _organisation_data(form: Any) -> dict[str, Any]:
    return {
        "name": form.get("name", ""),
        "kind": form.get("kind", ""),
        "parent_id": form.get("parent_id", ""),
        "may_admit": form.get("may_admit") == "on",
    }


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@roles_required("admin")
def organisation(org_id: int) -> ResponseReturnValue:
    errors: Errors = {}
    if request.method == "POST":
        who, form = actor(), request.form
        data = {"name": form.get("name", ""), "may_admit": form.get("may_admit") == "on"}
        errors = _problems(
            lambda: directory_organisations.change_organisation(engine(), org_id, data, actor=who)
        )
        if not errors:
            flash(_("Organisation saved."), "success")
            return redirect(url_for("admin.organisations"))
    with engine().session() as session:
        org = session.get(Organisation, org_id)
        if org is None:
            abort(404)
        parent = session.get(Organisation, org.parent_id) if org.parent_id else None
    return render_template(
        "admin/organisation.html", org=org, parent=parent, errors=errors
    ), _status(errors)


# ── members ──────────────────────────────────────────────────────────────
@bp.route("/members", methods=["GET", "POST"])
@roles_required("admin")
def members() -> ResponseReturnValue:
    errors: Errors = {}
    cell_filter = _int(request.args.get("cell"))
    if request.method == "POST":
        who, form = actor(), request.form
        member, errors = _attempt(
            lambda: directory_members.add_member(
                engine(), _member_data(form, with_cell=True), actor=who
            )
        )
        if not errors:
            flash(_("Member %(name)s added.", name=member.full_name), "success")
            return redirect(url_for("admin.members", cell=member.cell_id))
    with engine().session() as session:
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
        values=request.form if errors else {},
        statuses=MEMBER_STATUSES,
    ), _status(errors)


@bp.route("/members/<int:member_id>", methods=["GET", "POST"])
@roles_required("admin")
def member(member_id: int) -> ResponseReturnValue:
    errors: Errors = {}
    if request.method == "POST":
        who, form = actor(), request.form
        saved, errors = _attempt(
            lambda: directory_members.change_member(
                engine(), member_id, _member_data(form, with_cell=False), actor=who
            )
        )
        if not errors:
            flash(_("Member %(name)s saved.", name=saved.full_name), "success")
            return redirect(url_for("admin.members", cell=saved.cell_id))
    with engine().session() as session:
        record = session.get(Member, member_id)
        if record is None:
            abort(404)
        cells = _cells(session)
    return render_template(
        "admin/member.html",
        member=record,
        cells=cells,
        errors=errors,
        values=request.form if errors else {},
        statuses=MEMBER_STATUSES,
    ), _status(errors)


def _member_data(form: Any, *, with_cell: bool) -> dict[str, Any]:
    """The form is the whole record (an empty field clears it), as the action takes it:
    dates typed dd/mm/yyyy become ISO."""
    names = ("full_name", "status", "cell_id") if with_cell else ("full_name", "status")
    data: dict[str, Any] = {name: form.get(name, "") for name in names}
    for spec in directory_members.MEMBER_FIELDS:
        if spec.type == "date":
            raw = (form.get(spec.name) or "").strip()
            data[spec.name] = iso_date(raw, spec.name, spec.label_vi, spec.label_en) if raw else ""
    return data


def _cells(session: Session) -> list[Organisation]:
    query = select(Organisation).where(
        col(Organisation.kind).in_(directory_organisations.CELL_KINDS)
    )
    return list(session.exec(query.order_by(col(Organisation.name))))


# ── users ────────────────────────────────────────────────────────────────
@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users() -> ResponseReturnValue:
    errors: Errors = {}
    if request.method == "POST":
        who, form = actor(), request.form
        user, errors = _attempt(
            lambda: directory_users.add_user(engine(), _user_data(form, new=True), actor=who)
        )
        if not errors:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    with engine().session() as session:
        rows = directory_users.users(session)
        tree = directory_organisations.organisations(session)
    return render_template(
        "admin/users.html",
        rows=rows,
        organisations=tree,
        roles=ROLES,
        errors=errors,
        values=request.form if errors else {},
    ), _status(errors)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int) -> ResponseReturnValue:
    errors: Errors = {}
    if request.method == "POST":
        who, form = actor(), request.form
        saved, errors = _attempt(
            lambda: directory_users.change_user(
                engine(), user_id, _user_data(form, new=False), actor=who
            )
        )
        if not errors:
            flash(_("User %(name)s saved.", name=saved.username), "success")
            return redirect(url_for("admin.users"))
    with engine().session() as session:
        record = session.get(User, user_id)
        if record is None:
            abort(404)
        tree = directory_organisations.organisations(session)
        member_record = session.get(Member, record.member_id) if record.member_id else None
    return render_template(
        "admin/user.html",
        user=record,
        member=member_record,
        organisations=tree,
        roles=ROLES,
        errors=errors,
        values=request.form if errors else {},
    ), _status(errors)


def _user_data(form: Any, *, new: bool) -> dict[str, Any]:
    """The form is the whole account (an empty field clears it, an empty password keeps
    the current one), as the action takes it: a checkbox is true when ticked."""
    names = ("full_name", "role", "organisation_id", "member_id", "email", "password")
    data: dict[str, Any] = {name: form.get(name, "") for name in names}
    data["member_id"] = _member_id(form)
    data["daily_digest"] = form.get("daily_digest") == "on"
    if new:
        data["username"] = form.get("username", "")
    else:  # the new-user form has no such box: a new account is active
        data["active"] = form.get("active") == "on"
    return data


def _member_id(form: Any) -> str:
    """The member a user account is linked to: the one picked from the suggestions, or
    the one whose name was typed (InvalidData when it names nobody, or several)."""
    chosen = str(form.get("member_id") or "").strip()
    typed = form.get("member_id.label")
    if typed is None:  # a form without the picker's name box: the id as given
        return chosen
    if not str(typed).strip():  # the name emptied: no member
        return ""
    prefer = hygiene.whole_number(chosen)
    with engine().session() as session:
        found = member_search.resolve(session, actor(), str(typed), "member_id", prefer=prefer)
    return str(found)


def _int(raw: str | None) -> int | None:
    value = None if raw is None else hygiene.whole_number(str(raw))
    return value if value is not None and 0 < value < 2**31 else None
