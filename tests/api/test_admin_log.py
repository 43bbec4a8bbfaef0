"""GET /api/v1/admin-log: who changed which reference record, old → new, read by auditors
(their subtree) and admins; the API's own writes are logged by the same actions."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from sqlmodel import col, func, select

from tests.api.support import Api, error_of
from workflow.access import Actor
from workflow.directory import members, users
from workflow.engine import Engine
from workflow.models import AdminLogEntry, Member, Organisation, User

BANG_LUNG = "Đảng ủy thị trấn Bằng Lũng"


def _actor(engine: Engine, username: str) -> Actor:
    with engine.session() as session:
        record = session.exec(select(User).where(User.username == username)).one()
        return Actor.of(session, record)


def _probationary(engine: Engine, cell_id: int) -> Member:
    with engine.session() as session:
        member = session.exec(
            select(Member)
            .where(Member.cell_id == cell_id, Member.status == "probationary")
            .order_by(col(Member.id))
        ).first()
    assert member is not None
    return member


def _count(engine: Engine, table: type[Any]) -> int:
    with engine.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _confirm(engine: Engine, member: Member) -> None:
    assert member.id is not None and member.joined_on is not None
    official = member.joined_on.replace(year=member.joined_on.year + 1).isoformat()
    members.change_member(
        engine,
        member.id,
        {"status": "official", "official_since": official},
        actor=_actor(engine, "admin"),
    )


def _bang_lung_auditor(engine: Engine) -> None:
    with engine.session() as session:
        org = session.exec(select(Organisation).where(Organisation.name == BANG_LUNG)).one()
    users.add_user(
        engine,
        {
            "username": "kiemtra-bang-lung",
            "role": "auditor",
            "organisation_id": org.id,
            "password": "ketnap-demo",
        },
        actor=_actor(engine, "admin"),
    )


def _schema(api: Api, name: str) -> Any:
    document = api.get("/api/v1/openapi.json").get_json()
    return jsonschema_rs.validator_for(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": f"#/components/schemas/{name}",
            "components": document["components"],
        }
    )


def test_an_admins_change_of_a_member_status_is_in_the_log_with_old_and_new(
    api: Api, engine: Engine
) -> None:
    member = _probationary(engine, 4)
    _confirm(engine, member)
    answer = api.get(f"/api/v1/admin-log?table=member&record={member.id}", as_="auditor")
    assert answer.status_code == 200
    body = answer.get_json()
    assert _schema(api, "AdminLog").is_valid(body)
    [entry] = body["items"]
    assert (entry["username"], entry["action"]) == ("admin", "change_member")
    assert entry["changes"]["status"] == {"old": "probationary", "new": "official"}
    assert entry["changes"]["official_since"]["old"] is None
    assert entry["recorded_at"] == engine.clock.now().isoformat() + "Z"  # UTC, with its zone


def test_an_auditor_of_another_subtree_does_not_see_it(api: Api, engine: Engine) -> None:
    _bang_lung_auditor(engine)
    member = _probationary(engine, 4)  # a cell of Đông Lỗ
    _confirm(engine, member)
    listed = api.get("/api/v1/admin-log?table=member", as_="kiemtra-bang-lung").get_json()
    assert listed["items"] == []
    own = api.get("/api/v1/admin-log?table=user", as_="kiemtra-bang-lung").get_json()
    assert [e["username"] for e in own["items"]] == ["admin"]  # their account, in their subtree
    refused = api.get("/api/v1/admin-log", as_="officer")
    assert refused.status_code == 403 and error_of(refused)["rule"] == "forbidden"
    assert api.get("/api/v1/admin-log", as_="secretary").status_code == 403


def test_a_member_added_through_the_api_is_logged_by_the_same_action(api: Api) -> None:
    body = {"full_name": "Hà Văn Mới", "cell_id": 4, "joined_on": "2019-05-19"}
    body["official_since"] = "2020-05-19"
    added = api.post("/api/v1/members", as_="admin", json=body)
    assert added.status_code == 201
    member_id = added.get_json()["id"]
    log = api.get(f"/api/v1/admin-log?table=member&record={member_id}", as_="admin").get_json()
    [entry] = log["items"]
    assert entry["action"] == "add_member"
    assert entry["changes"]["full_name"] == {"old": None, "new": "Hà Văn Mới"}
    assert entry["changes"]["status"] == {"old": None, "new": "official"}


def test_refused_input_writes_nothing_and_logs_nothing(api: Api, engine: Engine) -> None:
    counts = _count(engine, Member), _count(engine, AdminLogEntry)
    early = {
        "full_name": "Hà Văn Sớm",
        "cell_id": 4,
        "joined_on": "2020-05-19",
        "official_since": "2019-05-19",
    }
    answer = api.post("/api/v1/members", as_="admin", json=early)
    assert answer.status_code == 400
    problem = error_of(answer)
    assert problem["field"] == "official_since"
    assert problem["message"] == "Ngày chính thức không được trước ngày vào Đảng"
    orphan = api.post("/api/v1/organisations", as_="admin", json={"name": "X", "kind": "cell"})
    assert orphan.status_code == 400
    assert error_of(orphan)["message"] == "Chi bộ phải trực thuộc một đảng ủy"
    assert (_count(engine, Member), _count(engine, AdminLogEntry)) == counts


def test_the_log_reads_in_pages_newest_first(api: Api, engine: Engine) -> None:
    for cell in (4, 5):
        _confirm(engine, _probationary(engine, cell))
    first = api.get("/api/v1/admin-log?limit=1", as_="admin").get_json()
    assert len(first["items"]) == 1 and first["next_before"] == first["items"][0]["id"]
    second = api.get(f"/api/v1/admin-log?limit=1&before={first['next_before']}", as_="admin")
    older = second.get_json()["items"]
    assert older[0]["id"] < first["items"][0]["id"]
    everything = api.get("/api/v1/admin-log", as_="admin").get_json()
    assert everything["next_before"] is None and len(everything["items"]) == 2


def test_bad_parameters_answer_400_naming_them(api: Api) -> None:
    for query, field in (("limit=0", "limit"), ("table=case", "table"), ("before=x", "before")):
        answer = api.get(f"/api/v1/admin-log?{query}", as_="auditor")
        assert answer.status_code == 400 and error_of(answer)["field"] == field
