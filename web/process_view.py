"""The procedure page: the diagram and the table of events, guards and deadlines."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("process_view", __name__)


@bp.route("/process")
@login_required
def show() -> ResponseReturnValue:
    return render_template("base.html")
