"""The organisation tree and party members: everyone reads within scope, admins write
through the actions of workflow/directory (each logged in the admin log). A member is
added and changed in member_records.py; villages in villages.py."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import MAX_ID, json_object, query_choice, query_int, query_text, row_id
from web.api.openapi import api_doc, ref
from web.api.representation import member_json, organisation_json
from web.context import actor, engine
from workflow.access import MEMBER_LISTERS
from workflow.directory import members as directory_members
from workflow.directory import organisation_search
from workflow.directory import organisations as directory_organisations

ADMIN = ("admin",)


@bp.get("/organisations")
@api_doc(
    "The organisation tree, or the organisations found by part of their name",
    description="Without `q`: every organisation, root first (`path` lists the ids from "
    "the root); the whole tree is listed to everyone. With `q`: what a form's picker "
    "suggests as a person types (the transfer's receiving cell) — the organisations "
    "whose name, or name with the organisation above it, holds every word of `q` "
    '(diacritics and case do not matter: "chi bo thon 3" finds "Chi bộ thôn 3"; a '
    'number "12" or "#12" finds that one), exact names first, at most '
    f"{organisation_search.LIMIT}; only those the caller may name in a form (every one "
    "for the roles that record a cell's acts, since a transfer may go to any cell; the "
    "caller's own scope for the others). Each found one also carries `parent_name` and "
    "`label` (its name with the organisation above it, as the picker shows it). `kind`: "
    "cells (cell, grassroots cell, the default with `q`) or committees.",
    query={
        "q": {"type": "string", "maxLength": 100, "pattern": "^[^\\x00]*$"},
        "kind": {"type": "string", "enum": list(organisation_search.KINDS)},
    },
    response={"type": "array", "items": ref("Organisation")},
    tag="organisations",
)
def organisations() -> ResponseReturnValue:
    who = actor()
    text = query_text("q", max_length=100)
    kind = query_choice("kind", tuple(organisation_search.KINDS)) or "cell"
    if text is not None:
        with engine().session() as session:
            found = organisation_search.find(
                session, who, text, kinds=organisation_search.KINDS[kind]
            )
        return jsonify([found_json(f) for f in found])
    with engine().session() as session:
        tree = directory_organisations.organisations(session)
    return jsonify([organisation_json(o) for o in tree])


def found_json(found: organisation_search.Found) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": found.name,
        "kind": found.kind,
        "parent_id": found.parent_id,
        "may_admit": found.may_admit,
        "path": found.path,
        "parent_name": found.parent_name,
        "label": found.label,
    }


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
