"""Villages (thôn, tổ dân phố), their party-member counts and their heads and deputies
with their terms, through the API: the actions of workflow/directory/villages.py, the
same ones the village-records page and `ketnap village` call (one rule each, one
admin-log entry per change). Officers keep the villages of their subtree; admins any."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from sqlmodel import Session, col, select

from web.api.blueprint import bp
from web.api.body import MAX_ID, json_object, query_int, row_id
from web.api.openapi import Schema, api_doc, ref, register_schema
from web.api.representation import iso
from web.context import actor, engine
from web.reports import READERS
from workflow.access import Actor, Forbidden
from workflow.directory import villages
from workflow.models import Organisation, Village, VillageCensus, VillageOfficial
from workflow.schema import parse_date

KEEPERS = villages.KEEPERS
DATE: Schema = {"type": "string", "format": "date"}
NULLABLE_DATE: Schema = {"type": ["string", "null"], "format": "date"}
ROLE: Schema = {
    "type": "string",
    "enum": list(villages.ROLES),
    "description": ", ".join(f"{code}: {label}" for code, label in villages.ROLES.items()),
}


def _object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
    }


VILLAGE_PROPERTIES: dict[str, Schema] = {
    "organisation_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "name": {"type": "string", "maxLength": 300},
    "established_on": NULLABLE_DATE,
    "dissolved_on": {**NULLABLE_DATE, "description": "The first day it no longer exists"},
}
OFFICIAL_PROPERTIES: dict[str, Schema] = {
    "role": ROLE,
    "full_name": {"type": "string", "maxLength": 300, "description": "Not needed with member_id"},
    "starts_on": {**DATE, "description": "First day of the term"},
    "ends_on": {**NULLABLE_DATE, "description": "Last day in office, once over"},
    "party_member_since": {
        **NULLABLE_DATE,
        "description": "Since when a party member (default: the linked member's joined_on)",
    },
    "member_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID},
}
CENSUS_PROPERTIES: dict[str, Schema] = {
    "counted_on": DATE,
    "party_members": {"type": "integer", "minimum": 0, "maximum": 100_000},
}
register_schema("NewVillage", _object(VILLAGE_PROPERTIES, ("organisation_id", "name")))
register_schema(
    "VillageChange",
    _object({k: v for k, v in VILLAGE_PROPERTIES.items() if k != "organisation_id"}),
)
register_schema("NewVillageOfficial", _object(OFFICIAL_PROPERTIES, ("role", "starts_on")))
register_schema(
    "VillageOfficialChange",
    _object({k: OFFICIAL_PROPERTIES[k] for k in ("ends_on", "party_member_since")}),
)
register_schema("NewVillageCensus", _object(CENSUS_PROPERTIES, ("counted_on", "party_members")))
register_schema(
    "VillageOfficial",
    {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "village_id": {"type": "integer"}}
        | OFFICIAL_PROPERTIES,
        "required": ["id", "village_id", *OFFICIAL_PROPERTIES],
    },
)
register_schema(
    "VillageCensus",
    {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "village_id": {"type": "integer"}}
        | CENSUS_PROPERTIES,
        "required": ["id", "village_id", *CENSUS_PROPERTIES],
    },
)
register_schema(
    "Village",
    {
        "type": "object",
        "properties": {"id": {"type": "integer"}}
        | VILLAGE_PROPERTIES
        | {
            "organisation_name": {"type": "string"},
            "censuses": {"type": "array", "items": ref("VillageCensus")},
            "officials": {"type": "array", "items": ref("VillageOfficial")},
            "in_office": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The officials in office on `on` (ids)",
            },
        },
        "required": ["id", *VILLAGE_PROPERTIES],
    },
)


def village_json(village: Village) -> dict[str, Any]:
    return {
        "id": village.id,
        "organisation_id": village.organisation_id,
        "name": village.name,
        "established_on": iso(village.established_on),
        "dissolved_on": iso(village.dissolved_on),
    }


def official_json(official: VillageOfficial) -> dict[str, Any]:
    return {
        "id": official.id,
        "village_id": official.village_id,
        "role": official.role,
        "full_name": official.full_name,
        "starts_on": iso(official.starts_on),
        "ends_on": iso(official.ends_on),
        "party_member_since": iso(official.party_member_since),
        "member_id": official.member_id,
    }


def census_json(census: VillageCensus) -> dict[str, Any]:
    return {
        "id": census.id,
        "village_id": census.village_id,
        "counted_on": iso(census.counted_on),
        "party_members": census.party_members,
    }


def _keeper() -> Actor:
    who = actor()
    if who.role not in KEEPERS:
        raise Forbidden(who.role)
    return who


def _home(session: Session, who: Actor) -> int:
    """The caller's organisation, or for an admin without one the root."""
    if who.organisation_id is not None:
        return who.organisation_id
    root = session.exec(select(Organisation.id).order_by(col(Organisation.path))).first()
    return root or 0


@bp.get("/villages")
@api_doc(
    "The villages of an organisation's subtree",
    description="Each village with its party-member counts, its heads and deputies, and "
    "those in office on `on`.",
    roles=READERS,
    query={
        "organisation": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_ID,
            "description": "Subtree root (default: yours)",
        },
        "on": {"type": "string", "format": "date", "description": "Default: today"},
    },
    response={"type": "array", "items": ref("Village")},
    errors=(404,),
    tag="villages",
)
def list_villages() -> ResponseReturnValue:
    who = actor()
    if who.role not in READERS:
        raise Forbidden(who.role)
    raw_on = request.args.get("on")
    on = parse_date(raw_on, "on") if raw_on else engine().clock.today()
    with engine().session() as session:
        organisation = query_int("organisation", None, minimum=1) or _home(session, who)
        listed = villages.villages_of(session, who, organisation, on)
    return jsonify(
        [
            village_json(entry["village"])
            | {
                "organisation_name": entry["organisation"],
                "censuses": [census_json(c) for c in entry["censuses"]],
                "officials": [official_json(o) for o in entry["officials"]],
                "in_office": [o.id for o in entry["in_office"]],
            }
            for entry in listed
        ]
    )


@bp.post("/villages")
@api_doc(
    "Add a village to an organisation",
    request=ref("NewVillage"),
    response=ref("Village"),
    status=201,
    roles=KEEPERS,
    tag="villages",
)
def add_village() -> ResponseReturnValue:
    who = _keeper()
    with engine().session() as session:
        village = villages.add_village(session, who, json_object(), now=engine().clock.now())
        return jsonify(village_json(village)), 201


@bp.patch("/villages/<int:village_id>")
@api_doc(
    "Rename a village or correct its dates",
    description="A field left out keeps its value; a village stays with its organisation.",
    request=ref("VillageChange"),
    response=ref("Village"),
    roles=KEEPERS,
    tag="villages",
)
def change_village(village_id: int) -> ResponseReturnValue:
    who = _keeper()
    with engine().session() as session:
        village = villages.change_village(
            session, who, row_id(village_id), json_object(), now=engine().clock.now()
        )
        return jsonify(village_json(village))


@bp.post("/villages/<int:village_id>/censuses")
@api_doc(
    "Record how many party members a village had on a day",
    description="A second count of the same day replaces the first.",
    request=ref("NewVillageCensus"),
    response=ref("VillageCensus"),
    status=201,
    roles=KEEPERS,
    tag="villages",
)
def record_census(village_id: int) -> ResponseReturnValue:
    who = _keeper()
    with engine().session() as session:
        census = villages.record_census(
            session, who, row_id(village_id), json_object(), now=engine().clock.now()
        )
        return jsonify(census_json(census)), 201


@bp.post("/villages/<int:village_id>/officials")
@api_doc(
    "Record a village head or deputy and their term",
    description="`member_id` links a party member: their name and admission date are "
    "used where `full_name` and `party_member_since` are not given.",
    request=ref("NewVillageOfficial"),
    response=ref("VillageOfficial"),
    status=201,
    roles=KEEPERS,
    tag="villages",
)
def add_official(village_id: int) -> ResponseReturnValue:
    who = _keeper()
    with engine().session() as session:
        official = villages.add_official(
            session, who, row_id(village_id), json_object(), now=engine().clock.now()
        )
        return jsonify(official_json(official)), 201


@bp.patch("/village-officials/<int:official_id>")
@api_doc(
    "End a term, or record when a head or deputy joined the Party",
    request=ref("VillageOfficialChange"),
    response=ref("VillageOfficial"),
    roles=KEEPERS,
    tag="villages",
)
def update_official(official_id: int) -> ResponseReturnValue:
    who = _keeper()
    with engine().session() as session:
        official = villages.update_official(
            session, who, row_id(official_id), json_object(), now=engine().clock.now()
        )
        return jsonify(official_json(official))
