"""Members found by name: what the forms' member pickers ask as a person types.

"nguyen van" finds "Nguyễn Văn An" (no diacritics, no case), never a member the caller
may not see (workflow.access.visible_members); a number ("12", "#12") finds that member.
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import MAX_ID, query_int, query_text
from web.api.openapi import Schema, api_doc
from web.context import actor, engine
from web.forms import status_label
from workflow.directory import member_search

FOUND: Schema = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "maxItems": member_search.LIMIT,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "full_name": {"type": "string"},
                    "status": {"type": "string", "enum": ["official", "probationary"]},
                    "status_label": {"type": "string"},
                    "cell_id": {"type": "integer"},
                    "cell_name": {"type": "string"},
                },
            },
        },
        "more": {"type": "boolean", "description": "More members match: type more of the name"},
    },
}


@bp.get("/members/search")
@api_doc(
    "Members by part of their name, as a picker suggests them",
    description='Diacritics and case do not matter ("nguyen van" finds "Nguyễn Văn An"); '
    f"exact names first, then members of `cell`, then by name; at most {member_search.LIMIT}. "
    "Only members the caller may see; removed members are not offered.",
    query={
        "q": {"type": "string", "maxLength": 100, "pattern": "^[^\\x00]*$"},
        "cell": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "description": "First"},
    },
    response=FOUND,
    tag="organisations",
)
def member_search_view() -> ResponseReturnValue:
    who = actor()
    text = query_text("q", max_length=100) or ""
    cell = query_int("cell", None)
    with engine().session() as session:
        found = member_search.find(session, who, text, cell_id=cell, limit=member_search.LIMIT + 1)
    items = [
        {
            "id": f.id,
            "full_name": f.full_name,
            "status": f.status,
            "status_label": status_label(f.status),
            "cell_id": f.cell_id,
            "cell_name": f.cell_name,
        }
        for f in found[: member_search.LIMIT]
    ]
    return jsonify(items=items, more=len(found) > member_search.LIMIT)
