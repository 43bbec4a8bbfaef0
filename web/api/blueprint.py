"""The API's blueprints: `api` at /api/v1 (operations) and `api_docs` at /api (the page)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api", template_folder="templates")
