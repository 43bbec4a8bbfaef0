"""The Flask application factory. Blueprints translate HTTP; the engine decides."""

from __future__ import annotations

from typing import Any

from flask import Flask

from web import auth, errors
from workflow import config as config_module
from workflow.config import Config
from workflow.engine import Engine
from workflow.runtime import build


def create_app(
    engine: Engine | None = None, config: Config | None = None, **overrides: Any
) -> Flask:
    """Build the app around `engine` (default: one from config.toml)."""
    config = config or config_module.load()
    app = Flask(__name__)
    web = config.web
    app.config.update(
        SECRET_KEY=web.get("secret_key", "dev-only-change-me"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(web.get("secure_cookies", False)),
        KETNAP_BASE_URL=web.get("base_url", "http://127.0.0.1:8000"),
        BABEL_DEFAULT_LOCALE=web.get("default_locale", "vi"),
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
    )
    app.config.update(overrides)
    app.extensions["ketnap.engine"] = engine or build(config=config)
    app.extensions["ketnap.config"] = config
    auth.init_app(app)
    errors.init_app(app)
    # Blueprints register here, one line each (kept sorted).
    return app
