"""The organisation tree and party members: everyone reads within scope, admins write
through the actions of workflow/directory (each logged in the admin log). A member is
added and changed in member_records.py; villages in villages.py."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import MAX_ID, json_object, query_int, row_id
from web.api.openapi import api_doc, ref
from web.api.representation import member_json, organisation_json
from web.context import actor, engine
from workflow.access import MEMBER_LISTERS
from workflow.directory import members as directory_members
from workflow.directory import organisations as directory_organisations

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
        tree = directory_organisations.organisations(session)
    return jsonify([organisation_json(o) for o in tree])


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
    org = directory_organisations.add_organisation(engine(), json_object(), actor=who)
    return jsonify(organisation_json(org)), 201


@bp.patch("/organisations/<int:org_id>")
@api_doc(
    "Rename an organisation, or say whether it may decide admissions",
    description="Only `name` and `may_admit` change: an organisation keeps its kind and "
    "its place in the tree (a field left out keeps its value). One logged "
    "`change_organisation`, as the admin page and `ketnap org edit` record it.",
    request=ref("OrganisationChange"),
    response=ref("Organisation"),
    roles=ADMIN,
    tag="organisations",
)
def change_organisation(org_id: int) -> ResponseReturnValue:
    who = actor()
    directory_organisations.check_may_change(who)  # a refusal before the body is read
    org = directory_organisations.change_organisation(
        engine(), row_id(org_id), json_object(), actor=who
    )
    return jsonify(organisation_json(org))


@bp.get("/members")
@api_doc(
    "Party members within the caller's scope",
    description="The members of the organisations in the caller's scope, and the "
    "sponsors and helpers of the cases the caller may read: the export's rule "
    "(`workflow.access.listed_members`). A sponsor may list neither.",
    roles=MEMBER_LISTERS,
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
        listed = directory_members.members(session, who, cell)
    return jsonify([member_json(m) for m in listed])
