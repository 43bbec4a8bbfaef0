"""The Flask application factory. Blueprints translate HTTP; the engine decides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from web import (
    admin,
    api,
    audit,
    auth,
    cases,
    documents,
    errors,
    inbox,
    process_view,
    reports,
    security,
)
from web import context as web_context
from web.extensions import babel, csrf, limiter, login_manager
from workflow import config as config_module
from workflow.config import Config
from workflow.engine import Engine
from workflow.runtime import build


class RowId(IntegerConverter):
    """`<int:...>` in every route: ASCII digits a database id can hold, else 404 (not a
    500; werkzeug's `\\d` would also take "٣" for 3)."""

    regex = r"[0-9]+"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(
    engine: Engine | None = None, config: Config | None = None, **overrides: Any
) -> Flask:
    """Build the app around `engine` (default: one from config.toml)."""
    config = config or config_module.load()
    app = Flask(__name__)
    app.url_map.converters["int"] = RowId  # before any blueprint adds its rules
    app.config.update(_settings(config))
    app.config.update(overrides)
    app.extensions["ketnap.engine"] = engine or build(config=config)
    app.extensions["ketnap.config"] = config
    babel.init_app(app, locale_selector=web_context.select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    web_context.init_app(app)
    security.init_app(app)
    # Blueprints register here, one line each (kept sorted).
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


def _settings(config: Config) -> dict[str, Any]:
    """Flask's and the extensions' settings from the [web] section of the configuration."""
    web = config.web
    base_url = str(web.get("base_url", "http://127.0.0.1:8000"))
    # Cookies only over HTTPS once the site is served over HTTPS (or when told so).
    secure = bool(web.get("secure_cookies")) or base_url.startswith("https://")
    return {
        "SECRET_KEY": web.get("secret_key", "dev-only-change-me"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "ketnap_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=10),
        "KETNAP_BASE_URL": base_url,
        "KETNAP_LOGIN_LIMIT": web.get("login_limit", "10 per 5 minutes"),
        "KETNAP_PAGE_SIZE": int(web.get("page_size", 25)),
        "BABEL_DEFAULT_LOCALE": web.get("default_locale", "vi"),
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "RATELIMIT_STORAGE_URI": web.get("ratelimit_storage", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": False,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
