"""Input hygiene at the boundary: one-line fields hold no line break or control
character, names hold a letter and at most 100 characters, dates lie between 1900 and
today, numbers are ASCII digits — for events (forms, API, import all parse through
workflow.schema) and for the directory's actions (admin). Each refusal names the
field in Vietnamese and English and writes nothing (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from tests.engine.conftest import TODAY, Setup
from workflow import schema
from workflow.access import Actor
from workflow.directory import members, users, villages
from workflow.models import Member, User, Village
from workflow.process import NOMINATE
from workflow.schema import InvalidData


@pytest.fixture(scope="module")
def hygiene_setup(module_setup: Setup) -> Setup:
    return module_setup


@contextmanager
def writes_nothing(setup: Setup) -> Iterator[None]:
    before = setup.counts()
    yield
    assert setup.counts() == before


def refused(setup: Setup, call: Callable[[], Any]) -> InvalidData:
    with writes_nothing(setup), pytest.raises(InvalidData) as raised:
        call()
    error = raised.value
    assert error.message_vi and error.message_en and error.message_vi != error.message_en
    return error


def nominate(setup: Setup, **person: Any) -> Any:
    on = TODAY - timedelta(days=2)
    data = setup.nomination(setup.dong_lo_cell, on, **person)
    return setup.engine.nominate(data, setup.secretary(setup.dong_lo_cell), on=on.isoformat())


def admin(setup: Setup) -> Actor:
    with setup.engine.session() as session:
        user = session.exec(select(User).where(User.role == "admin")).first()
        if user is None:  # the engine's demo tree has no admin account: make one
            user = User(username="hygiene-admin", role="admin", password_hash="!")
            session.add(user)
            session.commit()
            session.refresh(user)
        return Actor.of(session, user)


def a_village(setup: Setup, session: Any, who: Actor) -> Village:
    village = session.exec(select(Village)).first()
    if village is None:
        data = {"organisation_id": setup.dong_lo_cell, "name": "Thôn Hương Câu"}
        village = villages.add_village(session, who, data, now=setup.clock.now())
    assert isinstance(village, Village)
    return village


# ── names ─────────────────────────────────────────────────────────────────
BAD_NAMES = {
    "line feed": "Nguyễn Văn Xuống\nDòng",
    "carriage return": "Nguyễn Văn\rXuống",
    "vertical tab": "Nguyễn\x0bVăn",
    "unit separator": "Nguyễn\x1fVăn",
    "zero-width space inside": "Nguyễn\u200bVăn",
    "blank": "   ",
    "only zero-width": "\u200b\u200b",
    "only punctuation": "-- . --",
    "only digits": "12345",
    "too long": "Nguyễn " + "Văn " * 30,
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_bad_name_is_refused_at_nomination(hygiene_setup: Setup, name: str) -> None:
    error = refused(hygiene_setup, lambda: nominate(hygiene_setup, full_name=name))
    assert error.field == "person.full_name"


def test_the_refusal_of_a_line_break_says_so_in_both_languages(hygiene_setup: Setup) -> None:
    error = refused(hygiene_setup, lambda: nominate(hygiene_setup, full_name="A\nB"))
    assert error.message_vi == "'Họ và tên' không được chứa xuống dòng (U+000A)"
    assert error.message_en == "'Full name' may not contain a line break (U+000A)"


def test_a_name_of_one_hundred_characters_with_letters_is_accepted() -> None:
    parsed = schema.parse(
        NOMINATE.fields[0].parts[:1], {"full_name": "Hồ " + "Thị" * 32 + "a"}, "person."
    )
    assert len(parsed["full_name"]) == 100


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_bad_name_is_refused_when_an_admin_adds_or_corrects_a_member(
    hygiene_setup: Setup, name: str
) -> None:
    setup = hygiene_setup
    who = admin(setup)
    data = {"full_name": name, "cell_id": setup.dong_lo_cell, "official_since": "2001-05-19"}
    error = refused(setup, lambda: members.add_member(setup.engine, data, actor=who))
    assert error.field == "full_name"
    with setup.engine.session() as session:
        member = session.exec(select(Member).order_by(Member.id)).first()  # type: ignore[arg-type]
        assert member is not None and member.id is not None
        before = member.full_name
    error = refused(
        setup,
        lambda: members.change_member(setup.engine, member.id or 0, {"full_name": name}, actor=who),
    )
    assert error.field == "full_name"
    assert setup.member(member.id).full_name == before


@pytest.mark.parametrize("name", ["Lê\nVăn", "\u200b", " ", "Lê\x0bVăn"])
def test_a_bad_name_is_refused_for_a_user_and_a_village_official(
    hygiene_setup: Setup, name: str
) -> None:
    setup = hygiene_setup
    who = admin(setup)
    account = {
        "username": "moi-1",
        "role": "auditor",
        "password": "mat-khau-dai-du",
        "email": "a@b",
    }
    if name.strip():  # a blank full name of a user is no name (the field is optional)
        error = refused(
            setup,
            lambda: users.add_user(setup.engine, account | {"full_name": name}, actor=who),
        )
        assert error.field == "full_name"
    with setup.engine.session() as session:
        village = a_village(setup, session, who)
        official = {"role": "head", "full_name": name, "starts_on": "2020-01-01"}
        with pytest.raises(InvalidData) as raised:
            villages.add_official(session, who, village.id or 0, official, now=setup.clock.now())
        session.rollback()
    assert raised.value.field == "full_name"


# ── one-line and free text ────────────────────────────────────────────────
def advance_vote(setup: Setup, case_id: int, data: dict[str, Any], note: str | None = None) -> Any:
    version = setup.case(case_id).version
    return setup.engine.advance(
        case_id,
        "cell_vote",
        data,
        setup.secretary(setup.dong_lo_cell),
        version,
        on=TODAY.isoformat(),
        note=note,
    )


@pytest.fixture(scope="module")
def verified(hygiene_setup: Setup) -> int:
    setup = hygiene_setup
    return setup.case_in("verified", setup.dong_lo_cell, end=TODAY - timedelta(days=20))


VOTE = {"voters": 7, "votes_for": 6, "resolution_ref": "06-NQ/CB"}


@pytest.mark.parametrize("ref", ["06\n-NQ", "06\r-NQ", "06\t-NQ", "06\x0b-NQ", "\u202e06-NQ"])
def test_a_one_line_field_refuses_line_breaks_and_control_characters(
    hygiene_setup: Setup, verified: int, ref: str
) -> None:
    error = refused(
        hygiene_setup, lambda: advance_vote(hygiene_setup, verified, VOTE | {"resolution_ref": ref})
    )
    assert error.field == "resolution_ref"


@pytest.mark.parametrize("note", ["dòng một\x1fdòng hai", "a\x0bb", "a\u2028b"])
def test_a_note_refuses_control_characters(hygiene_setup: Setup, verified: int, note: str) -> None:
    error = refused(hygiene_setup, lambda: advance_vote(hygiene_setup, verified, VOTE, note))
    assert error.field == "note"


def test_free_text_keeps_its_line_breaks() -> None:
    reason = next(s for e in _events() for s in e.fields if s.name == "reason")
    parsed = schema.parse((reason,), {"reason": "Dòng một\r\nDòng hai"})
    assert parsed["reason"] == "Dòng một\r\nDòng hai"
    with pytest.raises(InvalidData) as raised:
        schema.parse((reason,), {"reason": "Dòng một\x0bDòng hai"})
    assert raised.value.field == "reason"


def _events() -> Any:
    from workflow.process import EVENTS

    return EVENTS


# ── dates ─────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31"])
def test_an_act_dated_before_1900_is_refused(hygiene_setup: Setup, verified: int, day: str) -> None:
    setup = hygiene_setup

    def act() -> Any:
        version = setup.case(verified).version
        return setup.engine.advance(
            verified, "cell_vote", VOTE, setup.secretary(setup.dong_lo_cell), version, on=day
        )

    error = refused(setup, act)
    assert error.field == "on"
    assert "1900" in error.message_en


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31"])
def test_a_birth_date_before_1900_is_refused(hygiene_setup: Setup, day: str) -> None:
    error = refused(hygiene_setup, lambda: nominate(hygiene_setup, birth_date=day))
    assert error.field == "person.birth_date"


def test_the_first_of_january_1900_is_a_date() -> None:
    assert schema.parse_date("1900-01-01", "on").year == 1900


def test_a_member_joined_in_the_future_or_before_1900_is_refused(hygiene_setup: Setup) -> None:
    setup = hygiene_setup
    who = admin(setup)
    for joined in ((TODAY + timedelta(days=1)).isoformat(), "1899-12-31"):
        data = {
            "full_name": "Hà Văn Mới",
            "cell_id": setup.dong_lo_cell,
            "status": "probationary",
            "joined_on": joined,
        }
        error = refused(setup, lambda data=data: members.add_member(setup.engine, data, actor=who))
        assert error.field == "joined_on"


# ── numbers ───────────────────────────────────────────────────────────────
@pytest.mark.parametrize("number", ["²", "٣", "７", "1²", "𝟕"])
def test_a_number_in_other_digits_is_refused(
    hygiene_setup: Setup, verified: int, number: str
) -> None:
    error = refused(
        hygiene_setup, lambda: advance_vote(hygiene_setup, verified, VOTE | {"voters": number})
    )
    assert error.field == "voters"
    assert "0–9" in error.message_vi and "0–9" in error.message_en


@pytest.mark.parametrize("number", ["²", "٣"])
def test_a_directory_number_in_other_digits_is_refused(hygiene_setup: Setup, number: str) -> None:
    setup = hygiene_setup
    who = admin(setup)
    with setup.engine.session() as session:
        village = a_village(setup, session, who)
        data = {"counted_on": "2025-01-01", "party_members": number}
        with pytest.raises(InvalidData) as raised:
            villages.record_census(session, who, village.id or 0, data, now=setup.clock.now())
        session.rollback()
    assert raised.value.field == "party_members"
