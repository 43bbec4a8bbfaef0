"""The Flask application factory. Blueprints translate HTTP; the engine decides."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from web import (
    admin,
    api,
    assets,
    audit,
    auth,
    cases,
    documents,
    errors,
    inbox,
    process_view,
    reports,
    rules,
    security,
    tasks,
)
from web import context as web_context
from web.extensions import babel, csrf, login_manager
from workflow import config as config_module
from workflow.config import Config
from workflow.engine import Engine
from workflow.runtime import build

log = logging.getLogger("ketnap.web")


class Ketnap(Flask):
    """Flask, except that an absolute link (`url_for(..., _external=True)`) starts with
    [web] base_url, never with the request's Host header, which the client chooses."""

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        if not has_request_context() or not (_external or _scheme):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        path = super().url_for(endpoint, _anchor=_anchor, _method=_method, **values)
        return external_url(str(self.config["KETNAP_BASE_URL"]), path, _scheme)


def external_url(base_url: str, path: str, scheme: str | None = None) -> str:
    """`path` (as url_for gives it inside a request: with the script root) under
    `base_url`, which already names any prefix the site is served under."""
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root) :]
    base = urlsplit(base_url.rstrip("/"))
    if scheme:
        base = base._replace(scheme=scheme)
    return urlunsplit(base) + path


class RowId(IntegerConverter):
    """`<int:...>` in every route: ASCII digits a database id can hold, else 404 (not a
    500; werkzeug's `\\d` would also take "٣" for 3)."""

    regex = r"[0-9]+"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(
    engine: Engine | None = None,
    config: Config | None = None,
    *,
    production: bool = False,
    **overrides: Any,
) -> Flask:
    """Build the app around `engine` (default: one from config.toml).

    A production app (`production=True`: `ketnap serve`, gunicorn through web.wsgi; or
    any app whose base_url is https) refuses a weak secret key: InsecureSecretKey,
    before anything is built. `overrides` are Flask settings (tests)."""
    config = config or config_module.load()
    app = Ketnap(__name__)
    app.url_map.converters["int"] = RowId  # before any blueprint adds its rules
    app.config.update(_settings(config))
    app.config.update(overrides)
    _check_secret_key(app, config, production)
    app.extensions["ketnap.engine"] = engine or build(config=config)
    app.extensions["ketnap.config"] = config
    babel.init_app(app, locale_selector=web_context.select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    web_context.init_app(app)
    security.init_app(app)
    assets.init_app(app)  # static files: hashed names, gzip, cached for ever (WhiteNoise)
    # Blueprints register here, one line each (kept sorted).
    app.register_blueprint(admin.bp)
    api.register(app)  # /api/v1 and /api/docs, CSRF-exempt
    app.register_blueprint(audit.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(process_view.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(rules.bp)
    _behind_proxies(app, int(app.config["KETNAP_TRUSTED_PROXIES"]))
    return app


def _behind_proxies(app: Flask, proxies: int) -> None:
    """The client's address and scheme as the `proxies` trusted proxies in front saw
    them (X-Forwarded-For, -Proto); with none, those headers are ignored, since any
    client could write them."""
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def _check_secret_key(app: Flask, config: Config, production: bool) -> None:
    """Production (or https): the key must be strong. Elsewhere (tests, `--dev`) an
    empty key becomes a random one for this process: sessions end at a restart."""
    if production or str(app.config["KETNAP_BASE_URL"]).startswith("https://"):
        config_module.require_strong_secret_key(config, str(app.config["SECRET_KEY"] or ""))
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secrets.token_urlsafe(48)
        log.warning(
            "no secret key configured (run `ketnap init`): a random one signs this "
            "process's sessions, which end when it stops"
        )


def _settings(config: Config) -> dict[str, Any]:
    """Flask's and the extensions' settings from the [web] section of the configuration."""
    web = config.web
    base_url = str(web.get("base_url", "http://127.0.0.1:8000"))
    # Cookies only over HTTPS once the site is served over HTTPS (or when told so).
    secure = bool(web.get("secure_cookies")) or base_url.startswith("https://")
    return {
        "SECRET_KEY": config_module.secret_key(config).value,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "ketnap_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=10),
        "KETNAP_BASE_URL": base_url,
        "KETNAP_TRUSTED_PROXIES": int(web.get("trusted_proxies", 0)),
        "KETNAP_LOGIN_LIMIT": web.get("login_limit", "10 per 5 minutes"),
        "KETNAP_LOGIN_ADDRESS_LIMIT": web.get("login_address_limit", "50 per 5 minutes"),
        "KETNAP_LOGIN_ACCOUNT_LIMIT": web.get("login_account_limit", "10 per 5 minutes"),
        "KETNAP_PAGE_SIZE": int(web.get("page_size", 25)),
        "BABEL_DEFAULT_LOCALE": web.get("default_locale", "vi"),
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "RATELIMIT_ENABLED": True,  # sign-in limits (workflow.logins); tests may switch off
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
