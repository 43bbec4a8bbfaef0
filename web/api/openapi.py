"""The OpenAPI 3.1 document of /api, built from the app's routes and the process table.

Every blueprint documents its API routes with `api_doc` (this module imports nothing
of the API blueprint, so any blueprint may use it):

    from web.api.openapi import api_doc, ref

    @bp.get("/api/v1/reports/pipeline")
    @api_doc(
        "Cases per state and overdue deadlines",
        query={"organisation": {"type": "integer", "description": "subtree root"}},
        response={"type": "object", "properties": {...}},  # or ref("Case"), or None
        roles=("officer", "auditor", "admin"),
    )
    def pipeline() -> ...: ...

`request=` is the JSON body's schema, `status=` the success status (200), `errors=`
extra error statuses beyond the usual ones, `media_type=` for non-JSON answers
(e.g. "text/csv"), `public=True` for routes that need no login, `tag=` the group.
`register_schema(name, schema)` adds a shared component others can `ref(name)`.
The document walks `app.url_map`, so a route under /api appears even undocumented
(with a bare entry) — tests/api/test_openapi.py insists every one is documented.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from werkzeug.routing import Rule

from workflow.access import ROLES

Schema = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "_ketnap_api_doc"
# Routes under /api that are pages, not operations.
NOT_OPERATIONS = ("/api/docs",)
# Shared components added by other blueprints (name → JSON Schema).
EXTRA_SCHEMAS: dict[str, Schema] = {}
ERROR_DESCRIPTIONS = {
    400: "Malformed input: a missing, unknown or ill-typed field (`field` names it)",
    401: "Not logged in: send `Authorization: Bearer <token>` (POST /api/v1/token)",
    403: "The caller's role may not do this",
    404: "No such resource, or outside the caller's scope (existence does not leak)",
    409: "Stale `version`: someone else changed the case first; reload it",
    422: "A rule refused the act: `rule` is its id, `source` the text it comes from",
    429: "Too many attempts; wait and try again",
}


@dataclass(frozen=True)
class RouteDoc:
    summary: str
    description: str = ""
    request: Schema | None = None
    response: Schema | None = None
    status: int = 200
    roles: tuple[str, ...] = ROLES
    query: dict[str, Schema] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    public: bool = False
    tag: str | None = None


def api_doc(
    summary: str,
    *,
    description: str = "",
    request: Schema | None = None,
    response: Schema | None = None,
    status: int = 200,
    roles: Iterable[str] = ROLES,
    query: dict[str, Schema] | None = None,
    errors: Iterable[int] = (),
    media_type: str = "application/json",
    public: bool = False,
    tag: str | None = None,
) -> Callable[[F], F]:
    """Describe an API view for the OpenAPI document (see the module docstring)."""
    doc = RouteDoc(
        summary,
        description,
        request,
        response,
        status,
        tuple(roles),
        dict(query or {}),
        tuple(errors),
        media_type,
        public,
        tag,
    )

    def attach(view: F) -> F:
        setattr(view, ATTRIBUTE, doc)
        return view

    return attach


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def register_schema(name: str, schema: Schema) -> None:
    EXTRA_SCHEMAS[name] = schema


def route_doc(app: Flask, rule: Rule) -> RouteDoc | None:
    return getattr(app.view_functions.get(rule.endpoint), ATTRIBUTE, None)


def api_rules(app: Flask) -> list[Rule]:
    """The app's operations under /api, in path order."""
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.rule.startswith("/api/") and r.rule not in NOT_OPERATIONS
        ),
        key=lambda r: r.rule,
    )


def build(app: Flask, components: dict[str, Schema], version: str = "1") -> Schema:
    """The whole document: every /api rule of `app`, and `components` (+ registered ones)."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in api_rules(app):
        doc = route_doc(app, rule) or _undocumented(app, rule)
        path, parameters = openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, doc, parameters)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ketnap API",
            "version": version,
            "description": INTRODUCTION,
        },
        "paths": paths,
        "components": {
            "schemas": {**components, **EXTRA_SCHEMAS},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /api/v1/token (valid 12 hours)",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "ketnap_session",
                    "description": "The web UI's login session",
                },
            },
        },
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    }


INTRODUCTION = (
    "Ketnap's JSON API: the admission of new party members (kết nạp đảng viên). "
    "States, events and their data come from the process table; every change of a case "
    "goes through the engine, which checks the rules. Errors are always "
    '`{"error": {"rule", "message", "source", "field"}}`; messages are in the user\'s '
    "language (Vietnamese unless their profile chose English). Dates are ISO "
    "`YYYY-MM-DD`; `on` is the date the act happened and may not be in the future."
)

_PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS: dict[str, Schema] = {
    "int": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},  # web.app.RowId
    "float": {"type": "number"},
}


def openapi_path(rule: str) -> tuple[str, list[Schema]]:
    """'/cases/<int:case_id>' → ('/cases/{case_id}', [its path parameter])."""
    parameters: list[Schema] = []

    def replace(match: re.Match[str]) -> str:
        name, converter = match["name"], match["converter"] or "default"
        schema = dict(_CONVERTER_SCHEMAS.get(converter, {"type": "string"}))
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _PLACEHOLDER.sub(replace, rule), parameters


def _operation(rule: Rule, method: str, doc: RouteDoc, path_parameters: list[Schema]) -> Schema:
    with_body = method in ("POST", "PUT", "PATCH") and doc.request is not None
    parameters = path_parameters + [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            **({"description": schema["description"]} if "description" in schema else {}),
        }
        for name, schema in doc.query.items()
    ]
    roles = "everyone, no login" if doc.public else ", ".join(doc.roles)
    operation: Schema = {
        "operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}",
        "summary": doc.summary,
        "description": f"{doc.description}\n\nWho: {roles}.".strip(),
        "tags": [doc.tag or rule.endpoint.split(".")[0]],
        "x-roles": [] if doc.public else list(doc.roles),
        "parameters": parameters,
        "responses": _responses(doc, with_body, bool(path_parameters), bool(doc.query)),
    }
    if doc.public:
        operation["security"] = []
    if with_body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc.request}},
        }
    return operation


def _responses(doc: RouteDoc, with_body: bool, has_path: bool, has_query: bool) -> Schema:
    success: Schema = {"description": "Success"}
    if doc.response is not None:
        success["content"] = {doc.media_type: {"schema": doc.response}}
    elif doc.media_type != "application/json":
        success["content"] = {doc.media_type: {}}
    responses: Schema = {str(doc.status): success}
    codes = set(doc.errors)
    if with_body or has_query:
        codes.add(400)
    if with_body:
        codes.add(422)
    if not doc.public:
        codes |= {401, 403}
    if has_path:
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {
            "description": ERROR_DESCRIPTIONS.get(code, "Error"),
            "content": {"application/json": {"schema": ref("Error")}},
        }
    return responses


def _undocumented(app: Flask, rule: Rule) -> RouteDoc:
    view = app.view_functions.get(rule.endpoint)
    summary = ((view.__doc__ or "").strip().splitlines() or [rule.endpoint])[0]
    return RouteDoc(summary, description="(not yet described with `api_doc`)")
