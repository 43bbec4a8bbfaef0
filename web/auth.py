"""Who is calling: Flask-Login sessions for pages, signed bearer tokens for the API.

Both end in the same `LoginUser`, so scoping and roles are checked one way.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import LoginManager, UserMixin
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import select
from werkzeug.security import check_password_hash

from web.context import engine
from workflow.models import User

TOKEN_MAX_AGE = 12 * 3600  # a working day and then some
login_manager = LoginManager()


class LoginUser(UserMixin):
    """The logged-in user; `record` is a detached copy of the User row."""

    def __init__(self, record: User) -> None:
        self.record = record
        self.id = str(record.id)
        self.role = record.role
        self.username = record.username

    @property
    def is_active(self) -> bool:
        return self.record.active


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ketnap-api-token")


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, else None."""
    with engine().session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active or not user.password_hash:
        return None
    return user if check_password_hash(user.password_hash, password) else None


def issue_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id})


def user_from_token(token: str) -> User | None:
    try:
        payload = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return _load(payload.get("uid"))


def _load(user_id: object) -> User | None:
    try:
        uid = int(str(user_id))
    except ValueError:
        return None
    with engine().session() as session:
        user = session.get(User, uid)
    return user if user is not None and user.active else None


@login_manager.user_loader
def load_user(user_id: str) -> LoginUser | None:
    user = _load(user_id)
    return LoginUser(user) if user else None


@login_manager.request_loader
def load_user_from_request(req: object) -> LoginUser | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = user_from_token(header[len("Bearer ") :].strip())
    return LoginUser(user) if user else None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
