"""Who is calling: Flask-Login sessions for pages, signed bearer tokens for the API.

Both end in the same `LoginUser`, so scoping and roles are checked one way. Both
carry the user's session generation: logout and a password change bump it, and
every cookie or token issued before stops working. A request with a bearer token
is decided by its token alone: it neither reads nor writes the cookie session.
Sign-in attempts (page and API together) are limited by workflow.logins.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import (
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from web.context import engine
from web.errors import http_error, locale
from web.extensions import login_manager
from workflow import logins
from workflow.logins import Limits, TooManyAttempts
from workflow.models import User

TOKEN_MAX_AGE = 12 * 3600  # a working day and then some
BEARER = "Bearer "
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

    def get_id(self) -> str:
        """What the session cookie keeps: the id and the generation it was issued in."""
        return f"{self.record.id}:{self.record.session_generation}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ketnap-api-token")


def limits() -> Limits | None:
    """The sign-in limits of this app (None when a test switched limiting off)."""
    found: Limits | None = current_app.extensions["ketnap.login_limits"]
    return found


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, else None; counted against
    the caller's address. Raises TooManyAttempts past a limit (page and API alike)."""
    return logins.authenticate(
        engine(), username, password, address=request.remote_addr or "", limits=limits()
    )


def issue_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "gen": user.session_generation})


def user_from_token(token: str) -> User | None:
    try:
        payload = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(payload, dict):
        return None
    return _load(payload.get("uid"), payload.get("gen"))


def _load(user_id: object, generation: object) -> User | None:
    """The active user `user_id`, if `generation` is still theirs."""
    try:
        uid, gen = int(str(user_id)), int(str(generation))
    except ValueError:
        return None
    with engine().session() as db:
        user = db.get(User, uid)
    if user is None or not user.active or user.session_generation != gen:
        return None
    return user


@login_manager.user_loader
def load_user(session_id: str) -> LoginUser | None:
    user_id, _sep, generation = session_id.partition(":")
    user = _load(user_id, generation)
    return LoginUser(user) if user else None


def _bearer(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    return header[len(BEARER) :].strip() if header.startswith(BEARER) else None


@login_manager.request_loader
def load_user_from_request(req: Request) -> LoginUser | None:
    token = _bearer(req)
    user = user_from_token(token) if token is not None else None
    return LoginUser(user) if user else None


class BearerBlindSessions(SecureCookieSessionInterface):
    """A request with a bearer token gets an empty session that is never saved.

    Else a client that keeps cookies (any HTTP library's session object) would send
    back a cookie some earlier response set (a page's CSRF token, a flash), and
    Flask-Login's strong session protection, finding a session without its
    fingerprint, would log it out before ever asking the token: the token's user
    lost their login from their second request on. The token alone decides."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if _bearer(request) is not None:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if _bearer(request) is not None:
            return
        super().save_session(app, session, response)


# ── login, logout, language ───────────────────────────────────────────────
def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce the user elsewhere."""
    if not target:
        return url_for("cases.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("cases.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        user = authenticate(username, password) if username and password else None
        if user is not None:
            pending = session.get(PENDING)  # a form typed before the session expired
            session.clear()  # a fresh session for the new identity
            if pending is not None:
                session[PENDING] = pending
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
    """Ends the user's sessions and tokens everywhere, not only this cookie: a copy of
    the cookie replayed later is refused."""
    if current_user.is_authenticated:
        logins.log_out(engine(), int(current_user.id))
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


def _too_many_attempts(error: TooManyAttempts) -> ResponseReturnValue:
    """429, the password unchecked: JSON for the API, the login page for a person."""
    wait = {"Retry-After": str(int(error.retry_after.total_seconds()))}
    if request.path.startswith("/api/"):
        body = {
            "error": {
                "rule": "too_many_requests",
                "message": error.message(locale()),
                "source": None,
                "field": None,
            }
        }
        return jsonify(body), 429, wait
    flash(_("Too many failed attempts. Wait a few minutes, then try again."), "error")
    username = (request.form.get("username") or "").strip()
    return render_template("login.html", username=username), 429, wait


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
    if request.method == "POST":  # the session ended while the form was being filled
        return _expired_form()
    flash(str(login_manager.login_message), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# ── a form sent after its session or CSRF token expired ─────────────────
# What was typed is kept in the session (the cookie: signed, and only ever sent back
# to the browser that typed it) and shown again, filled in, for one tap after logging
# in (web/resume.py), instead of "the form could not be read" and everything lost.
PENDING = "ketnap.pending_form"
PENDING_MAX = 2500  # characters: the session cookie must stay under the browsers' 4 KB
NEVER_KEPT = ("csrf_token", "password")


def keep_posted_form() -> bool:
    """Keep this POST's fields (never its token or a password) for /resume."""
    fields = [[k, v] for k, v in request.form.items(multi=True) if k not in NEVER_KEPT]
    if sum(len(k) + len(v) for k, v in fields) > PENDING_MAX:
        return False
    session[PENDING] = {"path": request.path, "fields": fields}
    return True


@bp.route("/resume")
@login_required
def resume() -> ResponseReturnValue:
    """The form kept when its session expired, filled in again, to send with one tap."""
    pending = session.pop(PENDING, None)
    if not isinstance(pending, dict):
        return redirect(url_for("cases.dashboard"))
    from web.resume import kept_form  # the forms and their queries: only this page

    return kept_form(str(pending.get("path", "")), pending.get("fields") or [])


def _csrf_failed(error: CSRFError) -> ResponseReturnValue:
    """A page form whose token no longer matches the session: the session expired (or
    the user logged out in another tab). The login form is simply shown again."""
    if request.path.startswith("/api/") or request.method != "POST":
        return http_error(error)
    if request.endpoint == "auth.login":
        flash(_("The login page had expired. Please log in again."), "info")
        username = (request.form.get("username") or "").strip()
        return render_template("login.html", username=username), 400
    return _expired_form()


def _expired_form() -> ResponseReturnValue:
    kept = keep_posted_form()
    if current_user.is_authenticated:
        if kept:
            flash(
                _("This form had expired. What you typed is kept: check it and send it again."),
                "warning",
            )
            return redirect(url_for("auth.resume"))
        flash(
            _("This form had expired and was too long to keep. Please fill it in again."), "error"
        )
        return redirect(_safe_next(request.referrer and urlsplit(request.referrer).path))
    if kept:
        flash(
            _(
                "Your session has expired. Log in again: what you typed is kept, "
                "and you can send it with one tap."
            ),
            "info",
        )
        return redirect(url_for("auth.login", next=url_for("auth.resume")))
    flash(_("Your session has expired. Please log in again."), "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """The login manager's settings, the sign-in limits (a bad one stops the start),
    bearer requests' sessions and the page of a refused login attempt (the manager is
    bound to the app in create_app)."""
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.unauthorized_handler(_unauthorized)
    config = app.config
    app.extensions["ketnap.login_limits"] = (
        Limits.parse(
            str(config["KETNAP_LOGIN_LIMIT"]),
            str(config["KETNAP_LOGIN_ADDRESS_LIMIT"]),
            str(config["KETNAP_LOGIN_ACCOUNT_LIMIT"]),
        )
        if config.get("RATELIMIT_ENABLED", True)
        else None
    )
    app.session_interface = BearerBlindSessions()
    app.register_error_handler(TooManyAttempts, _too_many_attempts)
    app.register_error_handler(CSRFError, _csrf_failed)
