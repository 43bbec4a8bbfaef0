"""The JSON API under /api/v1, its OpenAPI document and the offline docs page /api/docs.

`register(app)` is the one line create_app needs: it adds both blueprints and exempts
the API from CSRF (callers authenticate with a bearer token, or with the session
cookie on JSON bodies, which a cross-site form cannot send).

Every answer under /api/v1 (errors and the token included) carries `Cache-Control:
no-store` — set for every response but static files by web/security.py, one rule for
pages, downloads and the API; tests/web/test_security.py walks every GET route. Links
in answers (the inbox's `case_url`) start with [web] base_url (web/app.py's Ketnap).
"""

from __future__ import annotations

from flask import Flask

from web.api import (  # noqa: F401 — the route modules register on the blueprint
    admin_log,
    cases,
    documentation,
    identity,
    inbox,
    member_records,
    members,
    organisations,
    reports,
    tasks,
    villages,
)
from web.api.blueprint import bp, docs_bp
from web.extensions import csrf


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    csrf.exempt(bp)
