"""Search ignores diacritics and case, on SQLite and PostgreSQL alike: a secretary types
"nguyen van" on a phone keyboard and finds "Nguyễn Văn …"."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from tests.engine.conftest import Setup
from workflow.models import Person
from workflow.queries.search import person_matches
from workflow.text import fold

NOMINATED = date(2025, 3, 1)


def test_a_name_folds_to_bare_lower_case_letters() -> None:
    assert fold("  Nguyễn  Văn Đặng ") == "nguyen van dang"
    assert fold("HOÀNG THỊ ÁNH TUYẾT") == "hoang thi anh tuyet"
    assert fold("Lò Văn Ưng") == "lo van ung"


def _found(setup: Setup, needle: str) -> set[str]:
    with setup.engine.session() as session:
        rows = session.exec(select(Person.full_name).where(person_matches(needle)))
        return set(rows)


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("nguyen van", "Nguyễn Văn Đặng"),
        ("NGUYỄN VĂN", "Nguyễn Văn Đặng"),
        ("dang", "Nguyễn Văn Đặng"),
        ("anh tuyet", "Hoàng Thị Ánh Tuyết"),
        ("Ánh  Tuyết", "Hoàng Thị Ánh Tuyết"),
    ],
)
def test_search_ignores_diacritics_and_case(setup: Setup, typed: str, name: str) -> None:
    setup.nominate(setup.dong_lo_cell, NOMINATED, full_name="Nguyễn Văn Đặng")
    setup.nominate(setup.dong_lo_cell, NOMINATED, full_name="Hoàng Thị Ánh Tuyết")
    assert _found(setup, typed) == {name}


def test_a_corrected_name_is_found_by_its_new_spelling(setup: Setup) -> None:
    case = setup.nominate(setup.dong_lo_cell, NOMINATED, full_name="Trần Văn Bính")
    with setup.engine.session() as session:
        person = session.get(Person, case.person_id)
        assert person is not None
        person.full_name = "Trần Văn Bình"
        session.add(person)
        session.commit()
    assert _found(setup, "tran van binh") == {"Trần Văn Bình"}
    with setup.engine.session() as session:
        keys = session.exec(select(Person.name_key).where(col(Person.id) == case.person_id))
        assert list(keys) == ["tran van binh"]


def test_like_wildcards_in_a_search_are_literal(setup: Setup) -> None:
    setup.nominate(setup.dong_lo_cell, NOMINATED, full_name="Nguyễn Văn Đặng")
    assert _found(setup, "%") == set() and _found(setup, "_") == set()
