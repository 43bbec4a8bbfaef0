"""The Flask application factory. Blueprints translate HTTP; the engine decides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask_babel import Babel
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from web import auth, errors
from web import context as web_context
from workflow import config as config_module
from workflow.config import Config
from workflow.engine import Engine
from workflow.runtime import build

# Every form posts a CSRF token; the API blueprint exempts itself (`csrf.exempt(bp)`).
csrf = CSRFProtect()
LOCALES = ("vi", "en")

# Scripts and styles come only from our own origin. Mermaid writes a <style> element
# into the SVG it draws, so the pages that show a diagram relax `style-src` alone
# (see `allow_inline_styles`); scripts are never inline.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
CSP_DIAGRAM = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class RowId(IntegerConverter):
    """`<int:...>` in every route: a number a database id can hold, else 404 (not a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(
    engine: Engine | None = None, config: Config | None = None, **overrides: Any
) -> Flask:
    """Build the app around `engine` (default: one from config.toml)."""
    config = config or config_module.load()
    app = Flask(__name__)
    app.url_map.converters["int"] = RowId  # before any blueprint adds its rules
    web = config.web
    base_url = str(web.get("base_url", "http://127.0.0.1:8000"))
    # Cookies only over HTTPS once the site is served over HTTPS (or when told so).
    secure = bool(web.get("secure_cookies")) or base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=web.get("secret_key", "dev-only-change-me"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="ketnap_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
        KETNAP_BASE_URL=base_url,
        KETNAP_LOGIN_LIMIT=web.get("login_limit", "10 per 5 minutes"),
        KETNAP_PAGE_SIZE=int(web.get("page_size", 25)),
        BABEL_DEFAULT_LOCALE=web.get("default_locale", "vi"),
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        BABEL_TRANSLATION_DIRECTORIES="translations",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        RATELIMIT_STORAGE_URI=web.get("ratelimit_storage", "memory://"),
        RATELIMIT_HEADERS_ENABLED=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.update(overrides)
    app.extensions["ketnap.engine"] = engine or build(config=config)
    app.extensions["ketnap.config"] = config
    Babel(app, locale_selector=select_locale)
    csrf.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    web_context.init_app(app)
    app.after_request(security_headers)
    # Blueprints register here, one line each (kept sorted).
    from web import admin, api, audit, cases, documents, inbox, process_view, reports  # noqa: PLC0415 — they import this module

    app.register_blueprint(admin.bp)
    api.register(app)  # /api/v1 and /api/docs, CSRF-exempt
    app.register_blueprint(audit.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(process_view.bp)
    app.register_blueprint(reports.bp)
    return app


def select_locale() -> str:
    """Vietnamese unless the user chose English (session first, then their profile)."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    if current_user and current_user.is_authenticated:
        stored = getattr(current_user.record, "locale", None)
        if stored in LOCALES:
            return str(stored)
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi"))


def allow_inline_styles() -> None:
    """Mark this response as showing a Mermaid diagram (see CSP_DIAGRAM)."""
    g.ketnap_diagram = True


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP_DIAGRAM if g.get("ketnap_diagram") else CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        # Case data must not linger in shared browsers' caches.
        headers.setdefault("Cache-Control", "no-store")
    return response
