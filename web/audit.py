"""The auditor's read-only views: the hash-chain check, the CSV export, the print view."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
