"""Administration: users, organisations, members; rule parameters read-only."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from web.auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@roles_required("admin")
def index() -> ResponseReturnValue:
    return render_template("base.html")
