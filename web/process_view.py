"""The procedure page: the diagram (drawn here, on the server: web/diagram.py) and the
tables of events, guards and deadlines, all derived from workflow/process.py (nothing is
listed here by hand). `?state=` highlights one state (the case page links so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from web import diagram
from web.context import engine, label
from workflow import process
from workflow.access import RECORDERS
from workflow.rules import in_force

bp = Blueprint("process_view", __name__)
ACTED_BY: dict[str, Any] = {
    "cell": _l("Party cell"),
    "committee": _l("Grassroots committee"),
    "authority": _l("Competent authority"),
    "helper": _l("Helper"),
}
UNITS: dict[str, Any] = {
    "months": _l("months"),
    "days": _l("days"),
    "working_days": _l("working days"),
}
OWNERS: dict[str, Any] = {
    "secretary": _l("cell secretary"),
    "helper": _l("helper"),
    "sponsor": _l("sponsor"),
    "authority": _l("competent authority"),
}


@dataclass
class DeadlineRow:
    spec: process.Deadline
    length: int
    unit: str
    owners: str
    extension: int | None


@bp.route("/process")
@login_required
def show() -> ResponseReturnValue:
    params = in_force(engine().params, engine().clock.today())
    deadlines = [
        DeadlineRow(
            d,
            d.length(params),
            str(UNITS.get(d.unit, d.unit)),
            ", ".join(str(OWNERS.get(o, o)) for o in d.owners),
            d.max_extension(params) if d.max_extension else None,
        )
        for d in process.DEADLINES
    ]
    asked = request.args.get("state", "")
    highlight = asked if asked in process.STATE_NAMES else None
    return render_template(
        "process.html",
        diagram=diagram.diagram(label, highlight),
        listing=diagram.listing(label),
        highlight=highlight,
        states=process.STATES,
        events=process.EVENTS,
        deadlines=deadlines,
        acted_by=ACTED_BY,
        recorders=RECORDERS,
    )
