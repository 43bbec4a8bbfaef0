"""The rules page: every set of rule parameters in configuration, each parameter in the
reader's language with its unit, its value and the article it comes from; the set in
force today marked. Read-only: the sets live in config.toml ([rules], [[rules.later]]).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from web.context import engine, locale
from workflow import rules

bp = Blueprint("rules", __name__)


@bp.route("/rules")
@login_required
def show() -> ResponseReturnValue:
    current = engine()
    book = rules.book_of(current.params)
    today = current.clock.today()
    sets = [_shown(item, locale()) for item in reversed(rules.describe(book, today))]
    return render_template("rules.html", sets=sets, today=today)


def _shown(item: dict[str, Any], lang: str) -> dict[str, Any]:
    """A described set with its words in `lang` and its dates as dates."""
    until = item["until"]
    return {
        "effective_from": date.fromisoformat(item["effective_from"]),
        "until": date.fromisoformat(until) if until else None,
        "in_force": item["in_force"],
        "earliest": item["earliest"],
        "text": item["text"][lang],
        "basis": item["basis"][lang],
        "parameters": [
            {
                "label": p["label"][lang],
                "value": p["shown"],
                "unit": p["unit_label"][lang],
                "source": p["source"],
            }
            for p in item["parameters"]
        ],
    }
