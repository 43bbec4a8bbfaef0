"""The organisation tree and party members: everyone reads within scope, admins write."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import MAX_ID, json_object, query_int
from web.api.openapi import api_doc, ref
from web.api.representation import member_json, organisation_json
from web.context import actor, engine
from workflow import directory

ADMIN = ("admin",)


@bp.get("/organisations")
@api_doc(
    "The organisation tree",
    description="Every organisation, root first (`path` lists the ids from the root). "
    "The whole tree is listed to everyone: a transfer may go to any cell.",
    response={"type": "array", "items": ref("Organisation")},
    tag="organisations",
)
def organisations() -> ResponseReturnValue:
    actor()
    with engine().session() as session:
        return jsonify([organisation_json(o) for o in directory.organisations(session)])


@bp.post("/organisations")
@api_doc(
    "Add an organisation",
    request=ref("NewOrganisation"),
    response=ref("Organisation"),
    status=201,
    roles=ADMIN,
    tag="organisations",
)
def add_organisation() -> ResponseReturnValue:
    who = actor()
    body = json_object()
    with engine().session() as session:
        org = directory.add_organisation(session, who, body)
        return jsonify(organisation_json(org)), 201


@bp.get("/members")
@api_doc(
    "Party members of the cells within the caller's scope",
    query={
        "cell": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_ID,
            "description": "Only this cell",
        }
    },
    response={"type": "array", "items": ref("Member")},
    tag="organisations",
)
def members() -> ResponseReturnValue:
    who = actor()
    cell = query_int("cell", None)
    with engine().session() as session:
        return jsonify([member_json(m) for m in directory.members(session, who, cell)])


@bp.post("/members")
@api_doc(
    "Add a party member to a cell",
    request=ref("NewMember"),
    response=ref("Member"),
    status=201,
    roles=ADMIN,
    tag="organisations",
)
def add_member() -> ResponseReturnValue:
    who = actor()
    body = json_object()
    with engine().session() as session:
        member = directory.add_member(session, who, body)
        return jsonify(member_json(member)), 201
