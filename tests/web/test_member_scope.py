"""Members in pages, lists and refusals follow one reader rule (access.visible_members):
the sponsor and helper pickers offer only members the user may see; the API's member
list and the member export list the same members (and refuse a sponsor alike); a
refusal over the API reads the same for a member out of scope as for a missing id.
Integration tests on SQLite, through the real app."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from tests.web.support import TODAY, fresh_case, login, members_of
from workflow.engine import Engine
from workflow.models import HelperAssignment, Member
from workflow.ops.demo import World

MISSING = 987_654


def listed(client: FlaskClient) -> tuple[int, set[int] | None]:
    answer = client.get("/api/v1/members")
    if answer.status_code != 200:
        return answer.status_code, None
    return 200, {m["id"] for m in answer.get_json()}


def exported(client: FlaskClient) -> tuple[int, set[int] | None]:
    answer = client.get("/export/members.csv")
    if answer.status_code != 200:
        return answer.status_code, None
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    return 200, {int(r["Số đảng viên"]) for r in rows}  # the download is headed by labels


def all_members(engine: Engine, cell: int) -> set[int]:
    return {
        m.id
        for m in members_of(engine, cell, "official") + members_of(engine, cell, "probationary")
        if m.id
    }


# ── pickers ──────────────────────────────────────────────────────────────
# The pickers find members by name (/api/v1/members/search); the case page lists none.
def found(client: FlaskClient, members: list[Member]) -> set[int]:
    """The ids a picker suggests when each of these members' names is typed."""
    ids: set[int] = set()
    for member in members:
        answer = client.get("/api/v1/members/search", query_string={"q": member.full_name})
        assert answer.status_code == 200
        ids |= {m["id"] for m in answer.get_json()["items"]}
    return ids


def of(engine: Engine, *cells: int) -> list[Member]:
    return [
        m
        for cell in cells
        for m in members_of(engine, cell, "official") + members_of(engine, cell, "probationary")
    ]


def test_the_sponsor_picker_finds_the_cell_s_members_for_its_secretary(
    app: Flask, engine: Engine, world: World
) -> None:
    cell, other = world.cell_ids[0], world.cell_ids[3]
    case = fresh_case(engine, world, cell, "class_passed")
    client = login(app, "secretary")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'name="f.sponsors.0.member_id.label"' in page
    picked = found(client, of(engine, cell, other))
    assert picked == all_members(engine, cell)
    assert not picked & all_members(engine, other)


def test_a_sponsor_s_helper_picker_finds_only_members_they_may_see(
    app: Flask, engine: Engine, world: World
) -> None:
    """Before: every member of the case's cell, names and statuses, to a sponsor."""
    cell = world.cell_ids[0]
    case = fresh_case(engine, world, cell, "probationary")
    client = login(app, "sponsor")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    first, second = world.officials[cell][:2]  # the demo's sponsors; the first also helps
    assert found(client, of(engine, cell)) == {first, second}
    strangers = [m for m in members_of(engine, cell, "official") if m.id not in (first, second)]
    assert strangers
    for member in strangers:
        assert member.full_name not in page


def test_a_helper_from_another_cell_linked_to_the_case_is_found_and_no_one_else(
    app: Flask, engine: Engine, world: World
) -> None:
    cell, sibling = world.cell_ids[0], world.cell_ids[1]
    case = fresh_case(engine, world, cell, "probationary", seed=3)
    outsider = world.officials[sibling][4]
    with engine.session() as session:  # assigned by the committee, which acts for both
        assert case.id is not None
        session.add(HelperAssignment(case_id=case.id, member_id=outsider))
        session.commit()
    client = login(app, "secretary")
    assert found(client, of(engine, cell, sibling)) == all_members(engine, cell) | {outsider}


# ── the API's list and the export: one rule ──────────────────────────────
def test_the_api_member_list_and_the_export_list_the_same_members_for_every_role(
    app: Flask, engine: Engine, world: World
) -> None:
    cell, sibling = world.cell_ids[0], world.cell_ids[1]
    case = fresh_case(engine, world, cell, "probationary", seed=5)
    outsider = world.officials[sibling][6]
    with engine.session() as session:
        assert case.id is not None
        session.add(HelperAssignment(case_id=case.id, member_id=outsider))
        session.commit()
    results = {}
    for username in ("secretary", "secretary-2", "secretary-4", "officer", "auditor", "admin"):
        client = login(app, username)
        results[username] = listed(client)
        assert results[username] == exported(client), username
    sponsor = login(app, "sponsor")
    assert listed(sponsor) == exported(sponsor) == (403, None)
    # what each lists: its cells, and the out-of-scope helper of a case it reads
    assert results["secretary"] == (200, all_members(engine, cell) | {outsider})
    assert results["secretary-2"] == (200, all_members(engine, sibling))
    with engine.session() as session:
        everyone = set(session.exec(select(Member.id)))
    assert results["admin"] == (200, everyone)


def test_a_sponsor_may_not_list_a_cell_s_members_with_their_dates(app: Flask, world: World) -> None:
    """The report: the API listed them while the export refused."""
    client = login(app, "sponsor")
    cell = world.cell_ids[0]
    answer = client.get(f"/api/v1/members?cell={cell}")
    assert answer.status_code == 403
    assert "official_since" not in answer.get_data(as_text=True)
    assert client.get("/export/members.xlsx").status_code == 403


# ── a refusal over the API ───────────────────────────────────────────────
def test_over_the_api_an_out_of_scope_sponsor_reads_like_a_missing_id(
    app: Flask, engine: Engine, world: World
) -> None:
    cell, elsewhere = world.cell_ids[0], world.cell_ids[3]
    case = fresh_case(engine, world, cell, "class_passed", seed=9)
    stranger = members_of(engine, elsewhere, "probationary")[0]
    assert stranger.id is not None
    client = login(app, "secretary")
    since = (TODAY - timedelta(days=500)).isoformat()

    def refused(member_id: int) -> dict[str, str]:
        body = {
            "event": "assign_sponsors",
            "on": TODAY.isoformat(),
            "version": case.version,
            "data": {
                "sponsors": [
                    {"member_id": world.officials[cell][0], "alongside_since": since},
                    {"member_id": member_id, "alongside_since": since},
                ]
            },
        }
        answer = client.post(f"/api/v1/cases/{case.id}/events", json=body)
        assert answer.status_code == 422, answer.get_data(as_text=True)
        error: dict[str, str] = answer.get_json()["error"]
        return error

    missing, out_of_scope = refused(MISSING), refused(stranger.id)
    assert stranger.full_name not in str(out_of_scope)
    assert out_of_scope["message"].replace(str(stranger.id), "N") == missing["message"].replace(
        str(MISSING), "N"
    )
    assert out_of_scope["rule"] == missing["rule"] == "sponsor_is_official"
    # the page's form says the same, and keeps the stranger out of its pickers
    form = {
        "version": str(case.version),
        "on": TODAY.strftime("%d/%m/%Y"),
        "f.sponsors.0.member_id": str(world.officials[cell][0]),
        "f.sponsors.0.alongside_since": since,
        "f.sponsors.1.member_id": str(stranger.id),
        "f.sponsors.1.alongside_since": since,
    }
    page = client.post(f"/cases/{case.id}/events/assign_sponsors", data=form)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert f"{stranger.id} trong phạm vi" in html or f"{stranger.id} within your scope" in html
    assert stranger.full_name not in html
    # the id typed stays in its box, but no name of a member out of sight is shown
    assert re.search(rf'name="f.sponsors.1.member_id" value="{stranger.id}"', html)
