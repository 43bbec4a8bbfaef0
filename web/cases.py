"""Case pages: the dashboard, the list, nomination and one case with its forms."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

bp = Blueprint("cases", __name__)


@bp.route("/")
@login_required
def dashboard() -> ResponseReturnValue:
    return render_template("base.html")


@bp.route("/cases")
@login_required
def index() -> ResponseReturnValue:
    return render_template("base.html")


@bp.route("/cases/new")
@login_required
def new() -> ResponseReturnValue:
    return render_template("base.html")


@bp.route("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> ResponseReturnValue:
    return render_template("base.html")
