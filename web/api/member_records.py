"""Adding and changing party members through the API: the directory's add_member and
change_member actions (one rule, `members.valid`, as the admin pages, `ketnap member`
and the member imports apply it; one admin-log entry per change)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import json_object, row_id
from web.api.openapi import api_doc, ref
from web.api.representation import member_json
from web.context import actor, engine
from workflow.directory import members as directory_members

ADMIN = ("admin",)


@bp.post("/members")
@api_doc(
    "Add a party member to a cell",
    description="An official member needs `official_since`, a probationary one "
    "`joined_on` (probation runs from it); `birth_date` and `gender` (with "
    "`national_id`, if known) are given together or not at all.",
    request=ref("NewMember"),
    response=ref("Member"),
    status=201,
    roles=ADMIN,
    tag="organisations",
)
def add_member() -> ResponseReturnValue:
    who = actor()
    member = directory_members.add_member(engine(), json_object(), actor=who)
    return jsonify(member_json(member)), 201


@bp.patch("/members/<int:member_id>")
@api_doc(
    "Change a party member: status, dates, cell, particulars",
    description="The fields given change, the others keep their value; the result must "
    "satisfy the same rule as a new member (an official member has `official_since`, "
    "…). One logged `change_member`.",
    request=ref("MemberChange"),
    response=ref("Member"),
    roles=ADMIN,
    tag="organisations",
)
def change_member(member_id: int) -> ResponseReturnValue:
    who = actor()
    directory_members.check_may_change(who)  # a refusal before the body is read
    member = directory_members.change_member(engine(), row_id(member_id), json_object(), actor=who)
    return jsonify(member_json(member))
