"""Who is calling: Flask-Login sessions for pages, signed bearer tokens for the API.

Both end in the same `LoginUser`, so scoping and roles are checked one way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import (
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import select
from werkzeug.security import check_password_hash

from web import errors
from web.context import engine
from web.extensions import limiter, login_manager
from workflow.models import User

TOKEN_MAX_AGE = 12 * 3600  # a working day and then some
bp = Blueprint("auth", __name__)


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


# ── login, logout, language ───────────────────────────────────────────────
def _login_key() -> str:
    """Attempts are counted per address AND username: one user's typos do not lock others."""
    username = (request.form.get("username") or "").strip().lower()[:64]
    return f"{get_remote_address()}|{username}"


def _login_limit() -> str:
    return str(current_app.config["KETNAP_LOGIN_LIMIT"])


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce the user elsewhere."""
    if not target:
        return url_for("cases.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("cases.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        user = authenticate(username, password) if username and password else None
        if user is not None:
            session.clear()  # a fresh session for the new identity
            login_user(LoginUser(user))
            session.permanent = True
            if user.locale in ("vi", "en"):
                session["locale"] = user.locale
            flash(_("Welcome, %(name)s.", name=user.full_name or user.username), "success")
            return redirect(_safe_next(request.form.get("next")))
        flash(_("Wrong username or password."), "error")
        return render_template("login.html", username=username), 401
    return render_template("login.html", username=username)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/locale", methods=["POST"])
def set_locale() -> ResponseReturnValue:
    """Switch the interface language (kept in the session; nothing else changes)."""
    chosen = request.form.get("locale", "")
    if chosen in ("vi", "en"):
        session["locale"] = chosen
    return redirect(_safe_next(request.form.get("next")))


def _too_many_attempts(error: RateLimitExceeded) -> ResponseReturnValue:
    if request.endpoint != "auth.login":
        return errors.http_error(error)
    flash(_("Too many failed attempts. Wait a few minutes, then try again."), "error")
    username = (request.form.get("username") or "").strip()
    return render_template("login.html", username=username), 429


# ── roles, enforced on the server ────────────────────────────────────────
F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only these roles may call the view (403 for the others, login for nobody)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def writer_required(view: F) -> F:
    """A view that changes data: never for an auditor, whose access is read-only."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.role == "auditor":
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _unauthorized() -> ResponseReturnValue:
    if request.path.startswith("/api/"):
        abort(401)
    flash(str(login_manager.login_message), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    """The login manager's settings and the page of a refused login attempt (the
    manager and the limiter are bound to the app in create_app)."""
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.unauthorized_handler(_unauthorized)
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)
