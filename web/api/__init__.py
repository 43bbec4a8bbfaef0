"""The JSON API under /api/v1, its OpenAPI document and the offline docs page /api/docs.

`register(app)` is the one line create_app needs: it adds both blueprints and exempts
the API from CSRF (callers authenticate with a bearer token, or with the session
cookie on JSON bodies, which a cross-site form cannot send).
"""

from __future__ import annotations

from flask import Flask

from web.api import cases, documentation, identity, organisations  # noqa: F401 — routes
from web.api.blueprint import bp, docs_bp

from web.api import admin_log  # noqa: F401 — routes  # isort: skip


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    _exempt_from_csrf(app)


def _exempt_from_csrf(app: Flask) -> None:
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
