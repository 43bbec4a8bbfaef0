"""Read-only views for auditors: a case's record (the hash-chain check, the CSV export
and a print view, PDF-ready through the print stylesheet), the ledger over all cases
with its signed checkpoints (page and JSON export), and the admin log of the reader's
subtree (page and CSV). Nothing here changes case data: the one write is asking for a
whole-subtree integrity check (workflow/ops/integrity.py, an action that logs), which the
scheduler runs in the background while the page polls its progress.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlmodel import Session, col, select

from web.admin import KINDS
from web.api.admin_log import log_query
from web.auth import roles_required
from web.cases import timeline_entry
from web.context import actor as current_actor
from web.context import dmy, engine, event_label, label, role_label
from web.forms import status_label
from workflow import hygiene
from workflow.config import HistorySettings
from workflow.directory import admin_log, members, organisations, users
from workflow.history import signing
from workflow.models import AdminLogEntry, Organisation
from workflow.ops import integrity
from workflow.process import FieldSpec
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
    """The history exactly as stored (hashes included), so anyone can re-verify it —
    except that text a spreadsheet would run as a formula ("=HYPERLINK(…)" in a note)
    starts with an apostrophe, to be dropped before re-hashing (as Ketnap's import does)."""
    who = current_actor()
    with engine().session() as session:
        page = load_case(session, case_id, who)
    out = io.StringIO()
    out.write("\ufeff")  # a BOM so spreadsheet programs read the Vietnamese correctly
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in page.rows:
        writer.writerow(
            hygiene.formula_safe(value)
            for value in (
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


# ── the ledger over all cases and its signed checkpoints ──────────────────
def public_key() -> tuple[Any, str | None]:
    """The configured key that verifies checkpoints, or None and why not."""
    settings: HistorySettings = current_app.extensions["ketnap.config"].history
    try:
        return signing.configured_public(settings), None
    except signing.SigningKeyError as error:
        return None, str(error)


@bp.route("/ledger")
@roles_required(*admin_log.READERS)
def ledger_page() -> ResponseReturnValue:
    """The last integrity check of the reader's subtree (kept, not recomputed), the one
    under way with its progress, and the signed checkpoints."""
    who = current_actor()
    _public, key_problem = public_key()
    with engine().session() as session:
        listed = signing.stored(session)
        _scope, whole = integrity.scope_of(session, who)
    last = integrity.latest(engine(), who)
    return render_template(
        "audit/ledger.html",
        last=last,
        problems=integrity.problems_of(last) if last else [],
        notes=integrity.notes_of(last) if last else [],
        under_way=integrity.running(engine(), who),
        whole=whole,
        checkpoints=listed,
        key_problem=key_problem,
    )


@bp.route("/integrity", methods=["POST"])
@roles_required(*admin_log.READERS)
def request_integrity_check() -> ResponseReturnValue:
    """Queue a check of every chain in the reader's subtree (one at a time per subtree)."""
    integrity.request_check(engine(), current_actor())
    return redirect(url_for("audit.ledger_page") + "#integrity-check")


@bp.route("/integrity/<int:check_id>.json")
@roles_required(*admin_log.READERS)
def integrity_progress(check_id: int) -> ResponseReturnValue:
    """The check's progress, polled by the page (js/progress.js)."""
    check = integrity.check_of(engine(), current_actor(), check_id)
    if check is None:
        abort(404)
    return jsonify(integrity.status(check))


@bp.route("/ledger/checkpoints.json")
@roles_required(*admin_log.READERS)
def checkpoints_json() -> ResponseReturnValue:
    """The signed heads and the public key, for auditors to keep elsewhere."""
    public, _problem = public_key()
    with engine().session() as session:
        document = signing.export(signing.stored(session), public)
    return Response(
        json.dumps(document, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="ketnap-checkpoints.json"'},
    )


# ── the admin log ─────────────────────────────────────────────────────────
PAGE_SIZE = 100
ACTIONS: dict[str, Any] = {
    "add_organisation": _l("Organisation added"),
    "change_organisation": _l("Organisation changed"),
    "add_member": _l("Party member added"),
    "change_member": _l("Party member changed"),
    "add_user": _l("User added"),
    "change_user": _l("User changed"),
    "set_target": _l("Admission target set"),
    "delete_target": _l("Admission target deleted"),
    "record_class": _l("Class recorded"),
    "import_class": _l("Class imported"),
    "add_village": _l("Village added"),
    "change_village": _l("Village changed"),
    "import_village": _l("Village imported"),
    "dissolve_village": _l("Village dissolved"),
    "record_census": _l("Village census recorded"),
    "add_official": _l("Village head or deputy added"),
    "update_official": _l("Village head or deputy changed"),
    "import_official": _l("Village head or deputy imported"),
    "import_member": _l("Party member imported"),
    "claim_task": _l("Task claimed"),
    "unclaim_task": _l("Task released"),
    "request_integrity_check": _l("Integrity check requested"),
    "finish_integrity_check": _l("Integrity check finished"),
}
TABLES: dict[str, Any] = {
    "organisation": _l("Organisation"),
    "member": _l("Party member"),
    "user": _l("User"),
    "village": _l("Village"),
    "villagecensus": _l("Village census"),
    "villageofficial": _l("Village head or deputy"),
    "course": _l("Class"),
    "admissiontarget": _l("Admission target"),
    "integrity_check": _l("Integrity check"),
    "task_claim": _l("Task claim"),
}
# Field labels where a field spec names them (the others show the column's name).
FIELD_SPECS: dict[tuple[str, str], FieldSpec] = {
    (table, spec.name): spec
    for table, specs in (
        ("organisation", organisations.ORGANISATION_FIELDS),
        ("member", members.MEMBER_FIELDS),
        ("user", users.USER_FIELDS),
    )
    for spec in specs
}
ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
LOG_CSV_COLUMNS = (
    "entry_id",
    "recorded_at_utc",
    "user_id",
    "username",
    "action",
    "record_table",
    "record_id",
    "org_path",
    "field",
    "old",
    "new",
)


@dataclass(frozen=True)
class LogLine:
    """An admin log entry as the page shows it."""

    entry: AdminLogEntry
    action: str
    record: str
    organisation: str
    changes: list[tuple[str, str, str]]  # (field, old, new)


@bp.route("/admin-log")
@roles_required(*admin_log.READERS)
def admin_log_page() -> ResponseReturnValue:
    who = current_actor()
    query = log_query(default_limit=PAGE_SIZE, max_limit=PAGE_SIZE)
    with engine().session() as session:
        listed = admin_log.entries(session, who, query)
        names = _organisation_names(session, listed)
    lines = [_line(entry, names) for entry in listed]
    older = listed[-1].id if len(listed) == query.limit else None
    return render_template(
        "audit/admin_log.html", lines=lines, query=query, tables=TABLES, older=older
    )


@bp.route("/admin-log.csv")
@roles_required(*admin_log.READERS)
def admin_log_csv() -> ResponseReturnValue:
    """One row per changed field, values as stored (JSON for numbers and true/false)."""
    who = current_actor()
    query = log_query(default_limit=admin_log.MAX_ENTRIES, max_limit=admin_log.MAX_ENTRIES)
    with engine().session() as session:
        listed = admin_log.entries(session, who, query)
    out = io.StringIO()
    out.write("\ufeff")  # a BOM so spreadsheet programs read the Vietnamese correctly
    writer = csv.writer(out)
    writer.writerow(LOG_CSV_COLUMNS)
    for entry in listed:
        for field, change in admin_log.changed_fields(entry).items():
            writer.writerow(
                hygiene.formula_safe(value)
                for value in (
                    entry.id,
                    entry.recorded_at.isoformat(),
                    "" if entry.user_id is None else entry.user_id,
                    entry.username,
                    entry.action,
                    entry.record_table,
                    entry.record_id,
                    entry.org_path,
                    field,
                    _csv_value(change["old"]),
                    _csv_value(change["new"]),
                )
            )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="ketnap-admin-log.csv"'},
    )


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _organisation_names(session: Session, listed: Iterable[AdminLogEntry]) -> dict[int, str]:
    """The names of the organisations the entries concern (the last id of each path)."""
    ids = {_last_id(entry.org_path) for entry in listed} - {None}
    if not ids:
        return {}
    query = select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
    return {org_id: name for org_id, name in session.exec(query) if org_id is not None}


def _last_id(path: str) -> int | None:
    parts = path.strip("/").split("/")
    return hygiene.whole_number(parts[-1])


def _line(entry: AdminLogEntry, names: dict[int, str]) -> LogLine:
    org_id = _last_id(entry.org_path)
    table = str(TABLES.get(entry.record_table, entry.record_table))
    return LogLine(
        entry,
        str(ACTIONS.get(entry.action, entry.action)),
        _("%(table)s no. %(id)s", table=table, id=entry.record_id),
        names.get(org_id, "—") if org_id is not None else "—",
        [
            (
                _field_label(entry.record_table, field),
                _shown(field, change["old"]),
                _shown(field, change["new"]),
            )
            for field, change in admin_log.changed_fields(entry).items()
        ],
    )


def _field_label(table: str, field: str) -> str:
    spec = FIELD_SPECS.get((table, field))
    if spec is not None:
        return label(spec)
    return _("Password") if field == "password" else field


def _shown(field: str, value: Any) -> str:
    """A logged value as a reader expects it: dates dd/mm/yyyy, codes by their label."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str) and ISO_DAY.match(value):
        return dmy(date.fromisoformat(value))
    if field == "status":
        return status_label(str(value))
    if field == "role":
        return role_label(str(value))
    if field == "kind" and value in KINDS:
        return str(KINDS[value])
    return str(value)
