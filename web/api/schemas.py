"""JSON Schemas of the API's bodies. The event and nomination schemas come from the
process table (schema.json_schema of each event's fields), so a new field or event
appears in the API, its validation and its documentation at once.
"""

from __future__ import annotations

from typing import Any

from web.api.openapi import Schema, ref
from workflow import access, process
from workflow.directory import members, organisations
from workflow.queries.case_list import COUNT_CAP
from workflow.schema import json_schema

MAX_ID = 2**31 - 1
DATE: Schema = {"type": "string", "format": "date"}
NULLABLE_DATE: Schema = {"type": ["string", "null"], "format": "date"}
VERSION: Schema = {
    "type": "integer",
    "minimum": 0,
    "maximum": MAX_ID,
    "description": "The case's version as you last saw it (optimistic concurrency)",
}
NOTE: Schema = {"type": ["string", "null"], "maxLength": 4000, "description": "Free text"}
CASE_DATES = (
    "nominated_on",
    "certificate_on",
    "cell_resolution_on",
    "decision_on",
    "ceremony_on",
    "probation_end",
    "official_on",
    "seniority_from",
)
PERSON_FIELDS = tuple(spec.name for spec in process.PERSON.parts)


def _object(properties: dict[str, Schema], required: tuple[str, ...] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }


ERROR_DETAIL = _object(
    {
        "rule": {"type": "string", "description": "The rule's id (process table) or error kind"},
        "message": {"type": "string"},
        "source": {"type": ["string", "null"], "description": "The text the rule comes from"},
        "field": {"type": ["string", "null"], "description": "The input field concerned"},
    }
)


def field_json(spec: process.FieldSpec) -> Schema:
    """A field of the process table, described for clients that build forms from it."""
    return {
        "name": spec.name,
        "type": spec.type,
        "label_vi": spec.label_vi,
        "label_en": spec.label_en,
        "required": spec.required,
        "choices": list(spec.choices),
        "default": spec.default,
        "parts": [field_json(part) for part in spec.parts],
    }


FIELD: Schema = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "type": {"type": "string", "enum": list(process.FIELD_TYPES)},
        "label_vi": {"type": "string"},
        "label_en": {"type": "string"},
        "required": {"type": "boolean"},
        "choices": {"type": "array", "items": {"type": "string"}},
        "default": {},
        "parts": {"type": "array", "items": ref("Field")},
    },
    "required": ["name", "type", "label_vi", "label_en", "required", "choices", "parts"],
}


def event_request(event: process.Event) -> Schema:
    """The body of POST /cases/{id}/events for one event."""
    data = json_schema(event.fields)
    sources = ", ".join(event.sources)
    guards = ", ".join(g.id for g in event.guards) or "none"
    required = ["event", "on", "version"] + (["data"] if data["required"] else [])
    return {
        "type": "object",
        "title": event.name,
        "description": (
            f"{event.label_vi} — {event.label_en}. From {sources} to "
            f"{event.target or 'the same state'}. Recorded by: "
            f"{', '.join(access.RECORDERS[event.acted_by])}. Rules: {guards}."
        ),
        "additionalProperties": False,
        "properties": {
            "event": {"type": "string", "enum": [event.name]},
            "on": {**DATE, "description": f"{event.on_label_vi} ({event.on_label_en})"},
            "version": VERSION,
            "note": NOTE,
            "data": data,
        },
        "required": required,
    }


def nomination_request() -> Schema:
    """The body of POST /cases: the nominate fields at the top level, with on and note."""
    spec = process.NOMINATE
    fields = json_schema(spec.fields)
    return {
        "type": "object",
        "description": f"{spec.label_vi} — {spec.label_en}. Recorded by: "
        f"{', '.join(access.RECORDERS[spec.acted_by])}.",
        "additionalProperties": False,
        "properties": {
            "on": {**DATE, "description": f"{spec.on_label_vi} ({spec.on_label_en})"},
            "note": NOTE,
            **fields["properties"],
        },
        "required": ["on", *fields["required"]],
    }


def _person() -> Schema:
    properties = json_schema(process.PERSON.parts)["properties"]
    return {
        "type": "object",
        "properties": {"id": {"type": "integer"}, **properties},
        "required": ["id", *PERSON_FIELDS],
    }


def _case() -> Schema:
    return _object(
        {
            "id": {"type": "integer"},
            "state": {"type": "string", "enum": list(process.STATE_NAMES)},
            "version": {"type": "integer"},
            "open": {"type": "boolean"},
            "cell_id": {"type": "integer"},
            "nominated_by": {"type": "string"},
            "nomination_ref": {"type": "string"},
            "escalated": {"type": "boolean"},
            "person": ref("Person"),
            "dates": _object({name: NULLABLE_DATE for name in CASE_DATES}),
            "deadlines": {
                "type": "array",
                "items": _object(
                    {
                        "id": {"type": "string", "enum": [d.id for d in process.DEADLINES]},
                        "due": DATE,
                        "stage": {"type": "string", "enum": list(process.REMINDER_STAGES)},
                    }
                ),
            },
            "allowed_events": {
                "type": "array",
                "items": {"type": "string", "enum": [e.name for e in process.EVENTS]},
                "description": "Events the case's state allows and the caller's role records",
            },
        }
    )


def _event_result() -> Schema:
    case = _case()
    case["properties"] |= {
        "outcome": {"type": "string", "enum": ["accepted", "failed_vote"]},
        "failed_vote": {
            "anyOf": [ERROR_DETAIL, {"type": "null"}],
            "description": "The vote that fell short (the state is unchanged), else null",
        },
    }
    case["required"] += ["outcome", "failed_vote"]
    return case


def _history_row() -> Schema:
    return _object(
        {
            "seq": {"type": "integer"},
            "event": {"type": "string"},
            "outcome": {"type": "string", "enum": ["accepted", "failed_vote", "imported"]},
            "from_state": {"type": ["string", "null"]},
            "to_state": {"type": "string"},
            "on": DATE,
            "recorded_at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"},
            "data": {"type": "object"},
            "note": {"type": ["string", "null"]},
            "hash": {"type": "string"},
            "prev_hash": {"type": "string"},
        }
    )


def _process() -> Schema:
    state = _object(
        {
            "name": {"type": "string"},
            "label_vi": {"type": "string"},
            "label_en": {"type": "string"},
            "terminal": {"type": "boolean"},
        }
    )
    event = _object(
        {
            "name": {"type": "string"},
            "label_vi": {"type": "string"},
            "label_en": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "string"}},
            "target": {"type": ["string", "null"]},
            "acted_by": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string"}},
            "guards": {"type": "array", "items": _object({"id": {}, "source": {}})},
            "vote_guard": {"type": ["string", "null"]},
            "on_label_vi": {"type": "string"},
            "on_label_en": {"type": "string"},
            "fields": {"type": "array", "items": ref("Field")},
            "data_schema": {"type": "object"},
        }
    )
    deadline = _object(
        {
            "id": {"type": "string"},
            "label_vi": {"type": "string"},
            "label_en": {"type": "string"},
            "anchor": {"type": "string"},
            "unit": {"type": "string", "enum": ["months", "days", "working_days"]},
            "length": {"type": "integer"},
            "states": {"type": "array", "items": {"type": "string"}},
            "owners": {"type": "array", "items": {"type": "string"}},
            "source": {"type": "string"},
            "warn_days": {"type": "array", "items": {"type": "integer"}},
            "max_extension": {
                "type": ["integer", "null"],
                "description": "Working days an extension may add: 0 none, null no limit",
            },
        }
    )
    return _object(
        {
            "states": {"type": "array", "items": state},
            "events": {"type": "array", "items": event},
            "deadlines": {"type": "array", "items": deadline},
            "stages": {"type": "array", "items": {"type": "string"}},
        }
    )


def _optional(schema: Schema) -> Schema:
    """A change's body: the same fields, none required (those left out keep their value)."""
    return {**schema, "required": []}


def components() -> dict[str, Schema]:
    """Every shared schema of the document, process-derived ones included."""
    organisation_request = json_schema(organisations.ORGANISATION_FIELDS)
    member_request = json_schema(members.RECORD_FIELDS)
    schemas: dict[str, Any] = {
        "Error": _object(
            {
                "error": ERROR_DETAIL,
                "errors": {
                    "type": "array",
                    "items": ERROR_DETAIL,
                    "description": "Every problem found in the input (a refusal or "
                    "malformed data), the first being `error`",
                },
            },
            required=("error",),
        ),
        "ErrorDetail": ERROR_DETAIL,
        "Token": _object(
            {
                "token": {"type": "string"},
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_in": {"type": "integer", "description": "seconds"},
            }
        ),
        "Credentials": {
            **_object({"username": {"type": "string"}, "password": {"type": "string"}}),
            "additionalProperties": False,
        },
        "Me": _object(
            {
                "username": {"type": "string"},
                "role": {"type": "string", "enum": list(access.ROLES)},
                "organisation_id": {"type": ["integer", "null"]},
                "member_id": {"type": ["integer", "null"]},
                "full_name": {"type": "string"},
            }
        ),
        "Field": FIELD,
        "Process": _process(),
        "Organisation": _object(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "kind": {"type": "string"},
                "parent_id": {"type": ["integer", "null"]},
                "may_admit": {"type": "boolean"},
                "path": {"type": "string"},
            }
        ),
        "NewOrganisation": organisation_request,
        "OrganisationChange": _optional(json_schema(organisations.CHANGEABLE_FIELDS)),
        "Member": _object(
            {
                "id": {"type": "integer"},
                "full_name": {"type": "string"},
                "cell_id": {"type": "integer"},
                "status": {"type": "string", "enum": list(members.MEMBER_STATUSES)},
                "official_since": NULLABLE_DATE,
                "joined_on": NULLABLE_DATE,
            }
        ),
        "NewMember": member_request,
        "MemberChange": _optional(json_schema(members.RECORD_FIELDS)),
        "Person": _person(),
        "Case": _case(),
        "CaseList": _object(
            {
                "items": {"type": "array", "items": ref("Case")},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total": {
                    "type": "integer",
                    "maximum": COUNT_CAP,
                    "description": f"The matching cases, counted up to {COUNT_CAP:,}",
                },
                "total_capped": {
                    "type": "boolean",
                    "description": "true: more than `total` cases match (narrow the filters)",
                },
                "next": {
                    "type": ["string", "null"],
                    "description": "Where the next page starts (pass it as `after`); "
                    "null on the last page",
                },
            }
        ),
        "EventResult": _event_result(),
        "Nomination": nomination_request(),
        "NewEvent": {
            "oneOf": [ref(f"Event_{e.name}") for e in process.EVENTS if e.sources],
            "discriminator": {
                "propertyName": "event",
                "mapping": {
                    e.name: f"#/components/schemas/Event_{e.name}"
                    for e in process.EVENTS
                    if e.sources
                },
            },
        },
        "HistoryRow": _history_row(),
        "History": _object(
            {"case_id": {"type": "integer"}, "rows": {"type": "array", "items": ref("HistoryRow")}}
        ),
        "ChainCheck": _object(
            {
                "intact": {"type": "boolean"},
                "broken_at": {"type": ["integer", "null"]},
                "rows": {"type": "integer"},
                "reason": {"type": "string"},
            }
        ),
    }
    for event in process.EVENTS:
        if event.sources:  # nominate has its own route
            schemas[f"Event_{event.name}"] = event_request(event)
    return schemas
