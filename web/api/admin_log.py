"""The admin log as JSON: who changed which organisation, member, user, village, class
record or target, old → new. Auditors read their subtree, admins everything."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import MAX_ID, query_choice, query_int
from web.api.openapi import Schema, api_doc, ref, register_schema
from web.api.representation import admin_log_json
from web.context import actor, engine
from workflow.directory import admin_log

READERS = admin_log.READERS
MAX_PAGE = 1000

VALUE: Schema = {"type": ["string", "integer", "boolean", "null"]}
register_schema(
    "AdminLogEntry",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "recorded_at": {"type": "string", "format": "date-time", "description": "UTC"},
            "user_id": {"type": ["integer", "null"]},
            "username": {"type": "string"},
            "action": {"type": "string", "description": "e.g. change_member"},
            "record_table": {"type": "string", "enum": list(admin_log.RECORD_TABLES)},
            "record_id": {"type": "integer"},
            "org_path": {
                "type": "string",
                "description": "The organisation the record belongs to (its path)",
            },
            "changes": {
                "type": "object",
                "description": "Each changed field: its value before and after",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"old": VALUE, "new": VALUE},
                    "required": ["old", "new"],
                },
            },
        },
        "required": ["id", "recorded_at", "username", "action", "record_table", "record_id"],
    },
)
register_schema(
    "AdminLog",
    {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref("AdminLogEntry")},
            "next_before": {
                "type": ["integer", "null"],
                "description": "Pass as `before` for the next (older) page; null: no more",
            },
        },
        "required": ["items", "next_before"],
    },
)
QUERY: dict[str, Schema] = {
    "limit": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PAGE,
        "description": "Entries per page (100)",
    },
    "before": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ID,
        "description": "Only entries older than this entry id (paging)",
    },
    "table": {
        "type": "string",
        "enum": list(admin_log.RECORD_TABLES),
        "description": "Only changes of this kind of record",
    },
    "record": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ID,
        "description": "Only changes of the record with this id (with `table`)",
    },
}


def log_query(default_limit: int = 100, max_limit: int = MAX_PAGE) -> admin_log.Query:
    """The log query the request's parameters describe (InvalidData: 400)."""
    limit = query_int("limit", default_limit, minimum=1, maximum=max_limit)
    assert limit is not None
    return admin_log.Query(
        limit=limit,
        before=query_int("before", None, minimum=1),
        record_table=query_choice("table", admin_log.RECORD_TABLES),
        record_id=query_int("record", None, minimum=1),
    )


@bp.get("/admin-log")
@api_doc(
    "Changes to organisations, members, users, villages, classes and targets",
    description="The admin log, newest first: who changed which record, when, and each "
    "changed field's old and new value. Auditors see the entries of their subtree "
    "(the record's organisation lies in it), admins all. Nothing here is ever changed "
    "or deleted.",
    query=QUERY,
    response=ref("AdminLog"),
    roles=READERS,
    tag="admin log",
)
def admin_log_entries() -> ResponseReturnValue:
    who = actor()
    admin_log.check_may_read(who)  # the role first: a refused role learns nothing
    query = log_query()
    with engine().session() as session:
        listed = admin_log.entries(session, who, query)
    more = len(listed) == query.limit and listed[-1].id is not None
    return jsonify(
        {
            "items": [admin_log_json(entry) for entry in listed],
            "next_before": listed[-1].id if more else None,
        }
    )
