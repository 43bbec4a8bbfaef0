"""The reports' API: the catalogue, one report as JSON, CSV or XLSX, the narrative
summary, and admission targets (read, set, delete).

The request is read as the report pages read it (web.reports: `asked`, `figures_for`,
`narrative_for`), so a page and its download always show the same figures.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import json_object
from web.api.openapi import api_doc
from web.context import actor, engine, locale, today
from web.reports import READERS, figures_for, narrative_for
from workflow.access import Forbidden
from workflow.directory import targets
from workflow.models import Organisation
from workflow.reports import catalogue, narrative, scope
from workflow.reports.files import narrative_docx, to_csv, to_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PERIOD_QUERY: dict[str, dict[str, Any]] = {
    "org": {"type": "integer", "minimum": 1, "description": "Organisation (default: yours)"},
    "from": {"type": "string", "format": "date", "description": "First day (default: 1 January)"},
    "to": {"type": "string", "format": "date", "description": "Last day (default: today)"},
    "precision": {
        "type": "integer",
        "enum": [1, 2],
        "description": "Decimals of the printed shares (`text` fields, CSV/XLSX cells shown, "
        "the narrative): 1 (default; a share under 1 % gets 2) or 2. Numbers stay exact "
        "to two decimals whatever is asked.",
    },
}
TABLE = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "columns": {"type": "array", "items": {"type": "object"}},
        "rows": {"type": "array", "items": {"type": "array"}},
    },
}
REPORT = {
    "type": "object",
    "description": "The report's figures (fields depend on the report) and its tables",
    "properties": {
        "name": {"type": "string", "enum": list(catalogue.NAMES)},
        "title": {"type": "string"},
        "organisation": {"type": "object"},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "tables": {"type": "array", "items": TABLE},
    },
    "required": ["name", "title", "organisation", "from", "to", "tables"],
}
TARGET = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "organisation_id": {"type": "integer"},
        "organisation_name": {"type": "string"},
        "kind": {"type": "string", "enum": list(targets.KIND_NAMES)},
        "kind_label": {"type": "string"},
        "year": {"type": "integer"},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date"},
        "number": {"type": "integer"},
        "ref": {"type": "string"},
        "set_by": {"type": "string"},
    },
}
NEW_TARGET = {
    "type": "object",
    "description": "A year target gives `year`; resolution and congress-term targets give "
    "`period_start` and `period_end`; a resolution target needs its `ref`.",
    "properties": {
        "organisation_id": {"type": "integer", "minimum": 1},
        "kind": {"type": "string", "enum": list(targets.KIND_NAMES)},
        "year": {"type": "integer", "minimum": 1930, "maximum": 2100},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date"},
        "number": {"type": "integer", "minimum": 1, "maximum": targets.MAX_NUMBER},
        "ref": {"type": "string", "maxLength": 300},
    },
    "required": ["organisation_id", "kind", "number"],
    "additionalProperties": False,
}


@bp.get("/reports")
@api_doc(
    "The reports the districts publish",
    response={
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "title": {"type": "string"}},
        },
    },
    roles=READERS,
    tag="reports",
)
def report_catalogue() -> ResponseReturnValue:
    who = actor()
    if who.role not in READERS:
        raise Forbidden(who.role)
    return jsonify(catalogue.catalogue(locale()))


@bp.get("/reports/<name>")
@api_doc(
    "One report for an organisation's subtree and a period",
    description="`name` is one of " + ", ".join(catalogue.NAMES) + ". Every share comes "
    "with its counts; `percent` is the exact share rounded half up to two decimals "
    "(34.27 for 110 of 321), a change between two dates is computed from the exact "
    'shares; `text` fields print them as the reports do ("56,8%", "0,64%" under 1 %, '
    'two decimals with `precision=2`), "—" when there is no target or nothing to '
    "divide by. `step_durations` counts whole days: per open state in process order "
    "(`steps`), the stays that ended in the period (`left`: `count`; `days` and "
    "`working_days`, each `median` and `p90` by nearest rank, null when none), the cases "
    "waiting on `as_of` (`waiting`: `count`, `median_days`, `max_days`, "
    "`past_deadline`), the same per child organisation (`by_unit`), and `bottlenecks` "
    "(state, organisation, `reason` duration|waiting, `score` — the ratio to the "
    "subtree —, and the longest-waiting `cases`).",
    query=PERIOD_QUERY,
    response=REPORT,
    roles=READERS,
    errors=(404,),
    tag="reports",
)
def report(name: str) -> ResponseReturnValue:
    return jsonify(figures_for(name, actor()))


@bp.get("/reports/<name>.csv")
@api_doc(
    "One report as CSV (UTF-8 with BOM; one block per table)",
    query=PERIOD_QUERY,
    roles=READERS,
    media_type="text/csv",
    errors=(404,),
    tag="reports",
)
def report_csv(name: str) -> ResponseReturnValue:
    result = figures_for(name, actor())
    return _download(to_csv(result), "text/csv", _download_name(result, "csv"))


@bp.get("/reports/<name>.xlsx")
@api_doc(
    "One report as an Excel workbook (a sheet per table)",
    query=PERIOD_QUERY,
    roles=READERS,
    media_type=XLSX,
    errors=(404,),
    tag="reports",
)
def report_xlsx(name: str) -> ResponseReturnValue:
    result = figures_for(name, actor())
    return _download(to_xlsx(result), XLSX, _download_name(result, "xlsx"))


@bp.get("/narrative")
@api_doc(
    "The period's figures as the sentences of a district report",
    query=PERIOD_QUERY,
    response={
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "period": {"type": "string"},
            "paragraphs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"topic": {"type": "string"}, "text": {"type": "string"}},
                },
            },
            "text": {"type": "string"},
        },
    },
    roles=READERS,
    tag="reports",
)
def report_narrative() -> ResponseReturnValue:
    told = narrative_for(actor())
    told.pop("figures")
    return jsonify(told | {"text": narrative.as_text(told)})


@bp.get("/narrative.docx")
@api_doc(
    "The narrative summary as a Word document",
    query=PERIOD_QUERY,
    response={"type": "string", "format": "binary"},
    media_type=DOCX,
    roles=READERS,
    tag="reports",
)
def report_narrative_docx() -> ResponseReturnValue:
    told = narrative_for(actor())
    return _download(narrative_docx(told), DOCX, f"tom-tat-{told['from']}-{told['to']}.docx")


def _download(content: str | bytes, mimetype: str, file_name: str) -> Response:
    """A file the browser saves under `file_name`."""
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


@bp.get("/targets")
@api_doc(
    "Admission targets of the organisations in the caller's subtree",
    query={"org": {"type": "integer", "minimum": 1, "description": "Only this organisation's"}},
    response={"type": "array", "items": TARGET},
    roles=READERS,
    tag="reports",
)
def admission_targets() -> ResponseReturnValue:
    who = actor()
    org_id, _, _ = scope.parse_query({"org": request.args.get("org")}, today())
    if who.role not in READERS:
        raise Forbidden(who.role)
    with engine().session() as session:
        if org_id is not None:
            scope.organisation_for(session, who, org_id)  # 404 outside the subtree
        rows = targets.visible(session, who, org_id)
    return jsonify([targets.as_dict(t, o) for t, o in rows])


@bp.post("/targets")
@api_doc(
    "Set an admission target (or change the number of the same kind and period)",
    request=NEW_TARGET,
    response=TARGET,
    status=201,
    roles=targets.SETTERS,
    errors=(404,),
    tag="reports",
)
def set_target() -> ResponseReturnValue:
    who = actor()
    targets.check_may_set(who)  # the role first: a refused role learns nothing of the body
    spec = targets.parse(json_object())
    with engine().session() as session:
        target = targets.set_target(session, who, spec, engine().clock.now())
        org = session.get(Organisation, target.organisation_id)
        return jsonify(targets.as_dict(target, org)), 201


@bp.delete("/targets/<int:target_id>")
@api_doc("Delete a target set by mistake", status=204, roles=targets.SETTERS, tag="reports")
def delete_target(target_id: int) -> ResponseReturnValue:
    who = actor()
    with engine().session() as session:
        targets.delete_target(session, who, target_id, now=engine().clock.now())
    return Response(status=204)


def _download_name(result: dict[str, Any], extension: str) -> str:
    return (
        f"ketnap-{result['name']}-{result['organisation']['id']}-"
        f"{result['from']}-{result['to']}.{extension}"
    )
