"""Villages (thôn, bản, tổ dân phố), their party-member counts and their heads and deputies:
the data behind report 6, kept by admins and by the officers of the organisation the
village belongs to.

Members are filed by cell, not by where they live, so "the village has a party member"
cannot be derived from the member list: it is a dated count (VillageCensus). Heads and
deputies hold office for a term and may join the Party during it, so each records the
date they became a member; the share at any date follows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from workflow.access import Actor, Forbidden
from workflow.directory import admin_log, fields
from workflow.engine import NotFound
from workflow.models import Member, Organisation, Village, VillageCensus, VillageOfficial
from workflow.schema import InvalidData

KEEPERS = ("officer", "admin")
ROLES = {"head": "Trưởng thôn", "deputy": "Phó thôn"}
VILLAGE_LOGGED = ("organisation_id", "name", "established_on", "dissolved_on")
CENSUS_LOGGED = ("village_id", "counted_on", "party_members")
OFFICIAL_LOGGED = (
    "village_id",
    "role",
    "full_name",
    "starts_on",
    "ends_on",
    "party_member_since",
    "member_id",
)


def _organisation(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None or not actor.acts_for(org.path):
        raise NotFound(organisation_id)
    return org


def _keep(actor: Actor) -> None:
    if actor.role not in KEEPERS:
        raise Forbidden(f"role {actor.role} may not keep village records")


def village_for(session: Session, actor: Actor, village_id: int) -> Village:
    return _village_and_organisation(session, actor, village_id)[0]


def _village_and_organisation(
    session: Session, actor: Actor, village_id: int
) -> tuple[Village, Organisation]:
    village = session.get(Village, village_id)
    if village is None:
        raise NotFound(village_id)
    return village, _organisation(session, actor, village.organisation_id)


def _log(
    session: Session,
    actor: Actor,
    action: str,
    record: Village | VillageCensus | VillageOfficial,
    org: Organisation,
    before: admin_log.Values,
    now: datetime,
) -> None:
    """Flush the record (it may be new) and append its change to the admin log."""
    session.add(record)
    session.flush()
    logged = {
        Village: VILLAGE_LOGGED,
        VillageCensus: CENSUS_LOGGED,
        VillageOfficial: OFFICIAL_LOGGED,
    }[type(record)]
    admin_log.append(
        session,
        actor,
        action=action,
        record=record,
        org_path=org.path,
        before=before,
        after=admin_log.snapshot(record, logged),
        at=now,
    )


VILLAGE_FIELDS = {"organisation_id", "name", "established_on", "dissolved_on"}
OFFICIAL_FIELDS = {"role", "full_name", "starts_on", "ends_on", "party_member_since", "member_id"}


def valid_village(data: Any, today: date) -> dict[str, Any]:
    """A village's fields, checked: the one rule of the page, the CLI, the API and the
    import of members by village."""
    data = fields.record(data, VILLAGE_FIELDS)
    established = fields.day(data, "established_on", "Ngày thành lập", required=False, latest=today)
    dissolved = fields.day(data, "dissolved_on", "Ngày giải thể/sáp nhập", required=False)
    fields.not_before(established, dissolved, "dissolved_on")
    return {
        "organisation_id": fields.identifier(data, "organisation_id", "Tổ chức"),
        "name": fields.text(data, "name", "Tên thôn"),
        "established_on": established,
        "dissolved_on": dissolved,
    }


def new_village(
    session: Session,
    actor: Actor,
    parsed: dict[str, Any],
    *,
    now: datetime,
    action: str = "add_village",
) -> Village:
    """A checked village added and logged in the caller's transaction (not committed)."""
    org = _organisation(session, actor, parsed["organisation_id"])
    name = parsed["name"]
    duplicate = session.exec(
        select(Village.id).where(Village.organisation_id == org.id, Village.name == name)
    ).first()
    if duplicate is not None:
        raise InvalidData(
            "name", f"Đã có thôn '{name}' trong tổ chức này", f"'{name}' already exists here"
        )
    village = Village(**parsed)
    _log(session, actor, action, village, org, {}, now)
    return village


def add_village(session: Session, actor: Actor, data: Any, *, now: datetime) -> Village:
    _keep(actor)
    village = new_village(session, actor, valid_village(data, now.date()), now=now)
    session.commit()
    session.refresh(village)
    return village


def change_village(
    session: Session, actor: Actor, village_id: int, data: Any, *, now: datetime
) -> Village:
    """Rename a village, or correct the days it was established and dissolved (a field
    left out keeps its value); it stays with its organisation."""
    _keep(actor)
    village, org = _village_and_organisation(session, actor, village_id)
    if isinstance(data, dict) and "organisation_id" in data:
        raise InvalidData(
            "organisation_id",
            "Thôn giữ nguyên tổ chức của nó",
            "A village stays with its organisation",
        )
    before = admin_log.snapshot(village, VILLAGE_LOGGED)
    current = {k: v for k, v in before.items() if v is not None}
    parsed = valid_village(current | fields.record(data, VILLAGE_FIELDS), now.date())
    if (
        parsed["name"] != village.name
        and session.exec(
            select(Village.id).where(
                Village.organisation_id == org.id, Village.name == parsed["name"]
            )
        ).first()
    ):
        raise InvalidData(
            "name",
            f"Đã có thôn '{parsed['name']}' trong tổ chức này",
            f"'{parsed['name']}' already exists here",
        )
    village.name = parsed["name"]
    village.established_on, village.dissolved_on = parsed["established_on"], parsed["dissolved_on"]
    _log(session, actor, "change_village", village, org, before, now)
    session.commit()
    return village


def dissolve(
    session: Session, actor: Actor, village_id: int, data: Any, *, now: datetime
) -> Village:
    """Record the day a village stopped existing (merged, split), or clear it."""
    _keep(actor)
    village, org = _village_and_organisation(session, actor, village_id)
    data = fields.record(data, {"dissolved_on"})
    dissolved = fields.day(data, "dissolved_on", "Ngày giải thể/sáp nhập", required=False)
    fields.not_before(village.established_on, dissolved, "dissolved_on")
    before = admin_log.snapshot(village, VILLAGE_LOGGED)
    village.dissolved_on = dissolved
    _log(session, actor, "dissolve_village", village, org, before, now)
    session.commit()
    return village


def record_census(
    session: Session, actor: Actor, village_id: int, data: Any, *, now: datetime
) -> VillageCensus:
    """The number of party members living in the village on a date (replaces that day's)."""
    _keep(actor)
    _, org = _village_and_organisation(session, actor, village_id)
    data = fields.record(data, {"counted_on", "party_members"})
    counted_on = fields.day(data, "counted_on", "Ngày thống kê", latest=now.date())
    members = fields.whole_number(data, "party_members", "Số đảng viên", maximum=100_000)
    assert counted_on is not None and members is not None
    census = session.exec(
        select(VillageCensus).where(
            VillageCensus.village_id == village_id, VillageCensus.counted_on == counted_on
        )
    ).first()
    before = admin_log.snapshot(census, CENSUS_LOGGED) if census else {}
    census = census or VillageCensus(village_id=village_id, counted_on=counted_on, party_members=0)
    census.party_members = members
    _log(session, actor, "record_census", census, org, before, now)
    session.commit()
    session.refresh(census)
    return census


def valid_official(data: Any, today: date) -> dict[str, Any]:
    """A head's or deputy's term, checked (the member it names is looked up by
    `new_official`): the one rule of the page, the CLI, the API and the import."""
    data = fields.record(data, OFFICIAL_FIELDS)
    starts_on = fields.day(data, "starts_on", "Ngày bắt đầu nhiệm kỳ")
    ends_on = fields.day(data, "ends_on", "Ngày kết thúc nhiệm kỳ", required=False)
    fields.not_before(starts_on, ends_on, "ends_on")
    member_id = data.get("member_id")
    return {
        "role": fields.choice(data, "role", "Chức danh", tuple(ROLES)),
        "full_name": fields.text(data, "full_name", "Họ và tên", required=member_id is None),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "party_member_since": fields.day(
            data, "party_member_since", "Vào Đảng từ ngày", required=False, latest=today
        ),
        "member_id": None
        if member_id is None
        else fields.identifier(data, "member_id", "Đảng viên"),
    }


def new_official(
    session: Session,
    actor: Actor,
    village: Village,
    org: Organisation,
    parsed: dict[str, Any],
    *,
    now: datetime,
    action: str = "add_official",
) -> VillageOfficial:
    """A checked term added and logged in the caller's transaction (not committed); a
    linked member gives the name and the membership date when they are not given."""
    full_name, since = parsed["full_name"], parsed["party_member_since"]
    if parsed["member_id"] is not None:
        member = session.get(Member, parsed["member_id"])
        cell = session.get(Organisation, member.cell_id) if member else None
        if member is None or cell is None or not actor.acts_for(cell.path):
            # a member out of the actor's scope reads like a missing one: no name leaks
            raise InvalidData("member_id", "Không có đảng viên này", "No such member")
        full_name = full_name or member.full_name
        since = since or member.joined_on
    assert village.id is not None
    official = VillageOfficial(
        village_id=village.id,
        role=parsed["role"],
        full_name=full_name,
        starts_on=parsed["starts_on"],
        ends_on=parsed["ends_on"],
        party_member_since=since,
        member_id=parsed["member_id"],
    )
    _log(session, actor, action, official, org, {}, now)
    return official


def add_official(
    session: Session, actor: Actor, village_id: int, data: Any, *, now: datetime
) -> VillageOfficial:
    """A head or deputy for a term; `member_id` links a member (membership from joined_on)."""
    _keep(actor)
    village, org = _village_and_organisation(session, actor, village_id)
    parsed = valid_official(data, now.date())
    official = new_official(session, actor, village, org, parsed, now=now)
    session.commit()
    session.refresh(official)
    return official


def update_official(
    session: Session, actor: Actor, official_id: int, data: Any, *, now: datetime
) -> VillageOfficial:
    """End a term, or record the day a head or deputy joined the Party."""
    _keep(actor)
    official = session.get(VillageOfficial, official_id)
    if official is None:
        raise NotFound(official_id)
    _, org = _village_and_organisation(session, actor, official.village_id)
    before = admin_log.snapshot(official, OFFICIAL_LOGGED)
    data = fields.record(data, {"ends_on", "party_member_since"})
    if "ends_on" in data:
        ends_on = fields.day(data, "ends_on", "Ngày kết thúc nhiệm kỳ")
        fields.not_before(official.starts_on, ends_on, "ends_on")
        official.ends_on = ends_on
    if "party_member_since" in data:
        official.party_member_since = fields.day(
            data, "party_member_since", "Vào Đảng từ ngày", latest=now.date()
        )
    _log(session, actor, "update_official", official, org, before, now)
    session.commit()
    return official


def villages_of(
    session: Session, actor: Actor, organisation_id: int, on: date
) -> list[dict[str, Any]]:
    """The villages of a subtree with their newest count and their officials on `on`."""
    org = _organisation(session, actor, organisation_id)
    villages = session.exec(
        select(Village, Organisation.name)
        .join(Organisation, col(Organisation.id) == Village.organisation_id)
        .where(col(Organisation.path).startswith(org.path))
        .order_by(col(Organisation.path), col(Village.name))
    ).all()
    ids = [v.id for v, _ in villages]
    censuses: dict[int, list[VillageCensus]] = {i: [] for i in ids if i is not None}
    for census in session.exec(
        select(VillageCensus)
        .where(col(VillageCensus.village_id).in_(ids))
        .order_by(col(VillageCensus.counted_on))
    ):
        censuses[census.village_id].append(census)
    officials: dict[int, list[VillageOfficial]] = {i: [] for i in ids if i is not None}
    for official in session.exec(
        select(VillageOfficial)
        .where(col(VillageOfficial.village_id).in_(ids))
        .order_by(col(VillageOfficial.role), col(VillageOfficial.starts_on))
    ):
        officials[official.village_id].append(official)
    return [
        {
            "village": village,
            "organisation": org_name,
            "censuses": censuses.get(village.id or 0, []),
            "officials": officials.get(village.id or 0, []),
            "in_office": [
                o
                for o in officials.get(village.id or 0, [])
                if o.starts_on <= on and (o.ends_on is None or o.ends_on >= on)
            ],
        }
        for village, org_name in villages
    ]
