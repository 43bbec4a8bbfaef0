"""Read-only views of a case's record: the hash-chain check, the CSV export and a
print view (PDF-ready through the print stylesheet). Nothing here changes data.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from web.cases import timeline_entry
from web.context import actor as current_actor
from web.context import engine, event_label
from workflow.queries.case_page import load_case

bp = Blueprint("audit", __name__, url_prefix="/audit")
CSV_COLUMNS = (
    "seq",
    "event",
    "event_label",
    "outcome",
    "from_state",
    "to_state",
    "on",
    "recorded_at_utc",
    "actor",
    "data",
    "note",
    "prev_hash",
    "hash",
)


@bp.route("/cases/<int:case_id>")
@login_required
def case(case_id: int) -> ResponseReturnValue:
    who = current_actor()
    with engine().session() as session:
        page = load_case(session, case_id, who)
    entries = [timeline_entry(row, page.member_names, page.org_names) for row in page.rows]
    return render_template("audit/case.html", page=page, case=page.case, entries=entries)


@bp.route("/cases/<int:case_id>/print")
@login_required
def print_view(case_id: int) -> ResponseReturnValue:
    who = current_actor()
    with engine().session() as session:
        page = load_case(session, case_id, who)
    entries = [timeline_entry(row, page.member_names, page.org_names) for row in page.rows]
    return render_template("audit/print.html", page=page, case=page.case, entries=entries)


@bp.route("/cases/<int:case_id>/history.csv")
@login_required
def history_csv(case_id: int) -> ResponseReturnValue:
    """The history exactly as stored (hashes included), so anyone can re-verify it."""
    who = current_actor()
    with engine().session() as session:
        page = load_case(session, case_id, who)
    out = io.StringIO()
    out.write("\ufeff")  # a BOM so spreadsheet programs read the Vietnamese correctly
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in page.rows:
        writer.writerow(
            (
                row.seq,
                row.event,
                event_label(row.event),
                row.outcome,
                row.from_state or "",
                row.to_state,
                row.on.isoformat(),
                row.recorded_at.isoformat(),
                row.actor,
                row.data,
                row.note or "",
                row.prev_hash,
                row.hash,
            )
        )
    filename = f"ketnap-case-{case_id}-history.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
