"""A refusal names only members the actor may see (access.visible_members): a member out
of the actor's scope reads exactly like a missing id — no name, no hint that they
exist — and can be neither a sponsor nor a helper (so no form 3-KNĐ prints them).
Members already linked to a case the actor can read stay visible. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from tests.engine.conftest import TODAY, Setup
from workflow import access
from workflow.access import Actor, Forbidden
from workflow.directory import members as directory_members
from workflow.exchange import export
from workflow.models import HelperAssignment, Member, Sponsorship, User
from workflow.refusal import Refusal

MISSING = 987_654  # no member has this id


def members_of(setup: Setup, cell: int, status: str) -> list[Member]:
    with setup.engine.session() as session:
        query = select(Member).where(Member.cell_id == cell, Member.status == status)
        return list(session.exec(query.order_by(col(Member.id))))


def sponsors(first: int, second: int) -> dict[str, object]:
    since = (TODAY - timedelta(days=500)).isoformat()
    return {
        "sponsors": [
            {"member_id": first, "alongside_since": since},
            {"member_id": second, "alongside_since": since},
        ]
    }


def refusal(setup: Setup, case_id: int, event: str, data: dict[str, object], who: Actor) -> Refusal:
    before = setup.counts()
    with pytest.raises(Refusal) as raised:
        setup.advance(case_id, event, data, who, TODAY)
    assert setup.counts() == before  # nothing written
    return raised.value


def anonymised(refused: Refusal, member_id: int) -> tuple[str, str, str | None, str]:
    """The refusal with the id it names replaced: what tells one id from another."""
    return (
        refused.message_vi.replace(str(member_id), "N"),
        refused.message_en.replace(str(member_id), "N"),
        refused.field,
        refused.rule,
    )


def test_an_out_of_scope_sponsor_is_refused_like_a_missing_id_without_a_name(
    setup: Setup,
) -> None:
    here, elsewhere = setup.dong_lo_cell, setup.bang_lung_cell
    case_id = setup.case_in("class_passed", here, end=TODAY - timedelta(days=5))
    mine = setup.world.officials[here][0]
    secretary = setup.secretary(here)
    # the attack of the report: a probationary member of another cell, and an official
    [probationary, *_] = members_of(setup, elsewhere, "probationary")
    official = members_of(setup, elsewhere, "official")[0]
    assert probationary.id is not None and official.id is not None

    missing = refusal(setup, case_id, "assign_sponsors", sponsors(mine, MISSING), secretary)
    assert missing.message_vi == (
        f"Không có đảng viên số {MISSING} trong phạm vi của bạn (Điều lệ Đảng, Điều 4.2)"
    )
    for stranger in (probationary, official):
        assert stranger.id is not None
        refused = refusal(setup, case_id, "assign_sponsors", sponsors(mine, stranger.id), secretary)
        assert anonymised(refused, stranger.id) == anonymised(missing, MISSING)
        for text in (refused.message_vi, refused.message_en, str(refused)):
            assert stranger.full_name not in text
    with setup.engine.session() as session:
        assert session.exec(select(Sponsorship).where(Sponsorship.case_id == case_id)).all() == []


def test_a_sibling_cell_is_out_of_a_secretary_s_scope_but_not_of_their_committee_s(
    setup: Setup,
) -> None:
    here = setup.dong_lo_cell
    sibling = setup.world.cell_ids[1]  # the same grassroots committee
    case_id = setup.case_in("class_passed", here, end=TODAY - timedelta(days=5))
    mine, neighbour = setup.world.officials[here][0], setup.world.officials[sibling][0]
    refused = refusal(
        setup, case_id, "assign_sponsors", sponsors(mine, neighbour), setup.secretary(here)
    )
    assert refused.rule == "sponsor_is_official" and f"số {neighbour} trong phạm vi" in (
        refused.message_vi
    )

    officer = setup.world.committee_officer[here]  # acts for both cells
    setup.advance(case_id, "assign_sponsors", sponsors(mine, neighbour), officer, TODAY)
    with setup.engine.session() as session:
        query = select(Sponsorship.member_id).where(Sponsorship.case_id == case_id)
        assert sorted(session.exec(query)) == sorted([mine, neighbour])
        # linked to a case the secretary reads, the neighbour is now visible to them
        member = session.get(Member, neighbour)
        assert member is not None
        assert access.can_see_member(session, setup.secretary(here), member)
        assert not access.can_see_member(session, setup.secretary(setup.bang_lung_cell), member)


def test_an_out_of_scope_helper_is_refused_like_a_missing_id(setup: Setup) -> None:
    here, elsewhere = setup.dong_lo_cell, setup.bang_lung_cell
    case_id = setup.case_in("admission_decided", here, end=TODAY - timedelta(days=5))
    stranger = members_of(setup, elsewhere, "probationary")[0]
    assert stranger.id is not None
    secretary = setup.secretary(here)
    missing = refusal(setup, case_id, "hold_ceremony", {"helpers": [MISSING]}, secretary)
    refused = refusal(setup, case_id, "hold_ceremony", {"helpers": [stranger.id]}, secretary)
    assert anonymised(refused, stranger.id) == anonymised(missing, MISSING)
    assert refused.rule == "helper_is_official" and refused.field == "helpers"
    assert stranger.full_name not in refused.message_vi + refused.message_en
    # a probationary member in scope is still named: the actor may see them
    [own_probationary, *_] = members_of(setup, here, "probationary")
    named = refusal(setup, case_id, "hold_ceremony", {"helpers": [own_probationary.id]}, secretary)
    assert own_probationary.full_name in named.message_vi

    setup.advance(
        case_id, "hold_ceremony", {"helpers": [setup.world.officials[here][1]]}, secretary, TODAY
    )
    with setup.engine.session() as session:
        query = select(HelperAssignment.member_id).where(HelperAssignment.case_id == case_id)
        assert list(session.exec(query)) == [setup.world.officials[here][1]]


def test_a_transferred_case_s_sponsors_stay_visible_to_its_new_cell(setup: Setup) -> None:
    old, new = setup.dong_lo_cell, setup.bang_lung_cell
    case_id = setup.case_in("sponsored", old, end=TODAY - timedelta(days=5))
    setup.advance(case_id, "transfer", {"to_cell_id": new}, setup.secretary(old), TODAY)
    first, second = setup.world.officials[old][:2]
    unlinked = setup.world.officials[old][5]
    with setup.engine.session() as session:
        receiving = setup.secretary(new)
        seen = {m.id for m in session.exec(select(Member).where(access.visible_members(receiving)))}
        assert {first, second} <= seen and unlinked not in seen
        assert set(setup.world.officials[new]) <= seen


def actors(setup: Setup) -> list[Actor]:
    w = setup.world
    with setup.engine.session() as session:
        users = list(session.exec(select(User).order_by(col(User.id))))
        everyone = [Actor.of(session, u) for u in users]
    return [
        *everyone,
        *w.secretary.values(),
        Actor("nobody", "officer", None, ""),  # no organisation: sees nothing but links
        Actor("lost-sponsor", "sponsor", None, "", None),
    ]


def test_the_rule_for_one_member_agrees_with_the_rule_for_a_list(setup: Setup) -> None:
    """`can_see_member` (the engine's, one member) and `visible_members` (pickers and
    lists, SQL) are one rule: for every demo user and every member they agree."""
    here = setup.dong_lo_cell
    case_id = setup.case_in("probationary", here, end=TODAY - timedelta(days=5))
    sibling = setup.world.cell_ids[1]
    officer = setup.world.committee_officer[here]
    # a helper from the sibling cell makes a link across cells
    with setup.engine.session() as session:
        session.add(HelperAssignment(case_id=case_id, member_id=setup.world.officials[sibling][3]))
        session.commit()
    with setup.engine.session() as session:
        members = list(session.exec(select(Member)))
        for actor in [*actors(setup), officer]:
            listed = {
                m.id for m in session.exec(select(Member).where(access.visible_members(actor)))
            }
            one_by_one = {m.id for m in members if access.can_see_member(session, actor, m)}
            assert listed == one_by_one, actor
    sponsor_user = next(a for a in actors(setup) if a.username == "sponsor")
    with setup.engine.session() as session:
        seen = set(session.exec(select(Member.id).where(access.visible_members(sponsor_user))))
    # the demo sponsor is the first official of the first cell, sponsor of every demo case
    # there: they see themselves, their co-sponsors and those cases' helpers — no one else
    first, second = setup.world.officials[here][:2]
    assert seen == {first, second, setup.world.officials[sibling][3]}


def test_the_member_list_and_the_member_export_follow_one_rule(setup: Setup) -> None:
    here, sibling = setup.dong_lo_cell, setup.world.cell_ids[1]
    case_id = setup.case_in("probationary", here, end=TODAY - timedelta(days=5))
    outsider = setup.world.officials[sibling][2]
    with setup.engine.session() as session:
        session.add(HelperAssignment(case_id=case_id, member_id=outsider))
        session.commit()
    column = export.header("members").index("member_id")
    for actor in actors(setup):
        with setup.engine.session() as session:
            if actor.role not in access.MEMBER_LISTERS:
                with pytest.raises(Forbidden):
                    directory_members.members(session, actor)
                with pytest.raises(Forbidden):
                    export.member_rows(session, actor)
                continue
            listed = [m.id for m in directory_members.members(session, actor)]
            exported = [row[column] for row in export.member_rows(session, actor)]
            visible = session.exec(select(Member.id).where(access.visible_members(actor)))
            assert listed == exported == sorted(i for i in visible if i is not None), actor
            if actor == setup.secretary(here):
                assert outsider in listed  # the helper of a case they read
            if actor == setup.secretary(setup.bang_lung_cell):
                assert outsider not in listed
