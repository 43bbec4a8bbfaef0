"""Who logs in: added and changed by admins through these actions (each logged in the
admin log). A user acts for one organisation with one role; a sponsor or helper is
also a party member. Passwords are stored hashed, and the log says only that one was
set, never its value.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from werkzeug.security import generate_password_hash

from workflow import logins, schema
from workflow.access import ROLES, Actor, Forbidden
from workflow.directory import admin_log
from workflow.engine import Engine, NotFound
from workflow.models import Member, Organisation, User
from workflow.process import FieldSpec
from workflow.schema import InvalidData

MIN_PASSWORD, MAX_PASSWORD = 10, 200
MAX_USERNAME, MAX_TEXT = 64, 200
NEW_SECRET = "*** (new)"  # the logged value of a password just set

USERNAME = FieldSpec("username", "text", "Tên đăng nhập", "Username")
ACCOUNT_FIELDS = (
    FieldSpec("full_name", "text", "Họ và tên", "Full name", required=False, default=""),
    FieldSpec("role", "choice", "Vai trò", "Role", choices=ROLES),
    FieldSpec("organisation_id", "organisation", "Làm việc cho", "Acts for", required=False),
    FieldSpec("member_id", "member", "Số đảng viên", "Party member no.", required=False),
    FieldSpec("email", "text", "Thư điện tử", "E-mail", required=False),
    FieldSpec(
        "daily_digest",
        "bool",
        "Nhận thư tổng hợp hằng ngày",
        "Daily digest",
        required=False,
        default=False,
    ),
    FieldSpec("active", "bool", "Được đăng nhập", "Active", required=False, default=True),
)
USER_FIELDS = (USERNAME, *ACCOUNT_FIELDS)  # `password` is read apart: it is never stripped
LOGGED = tuple(spec.name for spec in USER_FIELDS)


def check_may_change(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden(f"role {actor.role} may not change users")


def users(session: Session) -> list[tuple[User, str | None]]:
    """Every user with the name of the organisation they act for, by username."""
    query = (
        select(User, Organisation.name)
        .join(Organisation, col(Organisation.id) == User.organisation_id, isouter=True)
        .order_by(col(User.username))
    )
    return list(session.exec(query).all())


def add_user(engine: Engine, data: Any, *, actor: Actor) -> User:
    check_may_change(actor)
    fields, password = _split_password(data)
    if password is None:  # a new account is never left open
        raise InvalidData(
            "password",
            f"Mật khẩu cần từ {MIN_PASSWORD} đến {MAX_PASSWORD} ký tự.",
            f"The password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters.",
        )
    parsed = schema.parse(USER_FIELDS, fields)
    _check_username(parsed["username"])
    with engine.session() as session:
        if session.exec(select(User.id).where(User.username == parsed["username"])).first():
            raise InvalidData(
                "username", "Tên đăng nhập này đã có người dùng.", "This username is taken."
            )
        org = _check_account(session, parsed)
        user = User(username=parsed["username"], role=parsed["role"])
        _fill(user, parsed, password)
        session.add(user)
        session.flush()
        _log(session, actor, engine, "add_user", user, org, {}, password)
        session.commit()
    return user


def change_user(engine: Engine, user_id: int, data: Any, *, actor: Actor) -> User:
    """Change what `data` names (a field it leaves out keeps its value); a password
    only when one is given, and then the user's sessions and tokens end. The
    username stays."""
    check_may_change(actor)
    fields, password = _split_password(data)
    with engine.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(user_id)
        before = admin_log.snapshot(user, LOGGED)
        current = {k: v for k, v in before.items() if k != "username"}
        parsed = schema.parse(ACCOUNT_FIELDS, current | fields)
        org = _check_account(session, parsed)
        _fill(user, parsed, password)
        session.add(user)
        if password is not None:  # a new password ends every session and token
            assert user.id is not None
            logins.end_sessions(session, user.id)
        _log(session, actor, engine, "change_user", user, org, before, password)
        session.commit()
    return user


def _split_password(data: Any) -> tuple[dict[str, Any], str | None]:
    if not isinstance(data, dict):
        raise InvalidData("data", "Dữ liệu phải là một đối tượng", "Data must be an object")
    fields = dict(data)
    password = fields.pop("password", None)
    if password is None or password == "":
        return fields, None
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidData(
            "password",
            f"Mật khẩu cần từ {MIN_PASSWORD} đến {MAX_PASSWORD} ký tự.",
            f"The password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters.",
        )
    return fields, password


def _check_username(username: str) -> None:
    plain = username.replace("-", "").replace(".", "").replace("_", "")
    if len(username) > MAX_USERNAME or not plain.isalnum():
        raise InvalidData(
            "username",
            "Dùng từ 1 đến 64 chữ cái, chữ số, dấu chấm, gạch ngang hoặc gạch dưới.",
            "Use 1 to 64 letters, digits, dots, dashes or underscores.",
        )


def _check_account(session: Session, parsed: dict[str, Any]) -> Organisation | None:
    """The organisation the user acts for, once the account's fields agree."""
    if len(parsed["full_name"]) > MAX_TEXT:
        raise InvalidData(
            "full_name",
            f"Họ và tên tối đa {MAX_TEXT} ký tự",
            f"The full name has at most {MAX_TEXT} characters",
        )
    email = parsed["email"]
    # ASCII, no blank: a mail header cannot carry anything else (an address in
    # Vietnamese letters would make every message to this user fail)
    if email is not None and (
        "@" not in email or len(email) > MAX_TEXT or not email.isascii() or " " in email
    ):
        raise InvalidData(
            "email",
            "Hãy nhập địa chỉ thư điện tử hợp lệ, hoặc để trống.",
            "Enter a valid e-mail address, or leave it empty.",
        )
    org = _organisation(session, parsed["organisation_id"], parsed["role"])
    _check_member(session, parsed["member_id"], parsed["role"])
    return org


def _organisation(session: Session, org_id: int | None, role: str) -> Organisation | None:
    org = session.get(Organisation, org_id) if org_id is not None else None
    if org_id is not None and org is None:
        raise InvalidData(
            "organisation_id", f"Không có tổ chức số {org_id}", f"There is no organisation {org_id}"
        )
    if org is None and role != "admin":
        raise InvalidData(
            "organisation_id",
            "Hãy chọn tổ chức mà người dùng này làm việc cho.",
            "Choose the organisation this user acts for.",
        )
    return org


def _check_member(session: Session, member_id: int | None, role: str) -> None:
    if member_id is not None and session.get(Member, member_id) is None:
        raise InvalidData(
            "member_id",
            "Không có đảng viên mang số này.",
            "There is no party member with this number.",
        )
    if member_id is None and role == "sponsor":
        raise InvalidData(
            "member_id",
            "Người giới thiệu hoặc giúp đỡ phải gắn với hồ sơ đảng viên của mình.",
            "A sponsor or helper must be linked to their party member record.",
        )


def _fill(user: User, parsed: dict[str, Any], password: str | None) -> None:
    user.full_name = parsed["full_name"] or ""
    user.role = parsed["role"]
    user.organisation_id = parsed["organisation_id"]
    user.member_id = parsed["member_id"]
    user.email = parsed["email"]
    user.daily_digest = bool(parsed["daily_digest"])
    user.active = bool(parsed["active"])
    if password is not None:
        user.password_hash = generate_password_hash(password)


def _log(
    session: Session,
    actor: Actor,
    engine: Engine,
    action: str,
    user: User,
    org: Organisation | None,
    before: admin_log.Values,
    password: str | None,
) -> None:
    after = admin_log.snapshot(user, LOGGED)
    if before:
        before["password"] = admin_log.HIDDEN
    after["password"] = NEW_SECRET if password is not None else before.get("password")
    admin_log.append(
        session,
        actor,
        action=action,
        record=user,
        org_path=org.path if org else admin_log.ROOT_PATH,
        before=before,
        after=after,
        at=engine.clock.now(),
    )
