"""Correcting a candidate's particulars is a recorded act like any other: in every open
state, by the cell, in the history (the fields it changed, old → new), the person row
following it — and a name stays a name (one line, 100 characters at most)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from tests.engine.conftest import TODAY, Setup
from workflow import history, particulars, process
from workflow.history import replay
from workflow.models import HistoryEvent, Person
from workflow.refusal import Refusal
from workflow.schema import InvalidData


def correct(setup: Setup, case_id: int, person: dict[str, object], reason: str = "Ghi sai") -> None:
    case = setup.case(case_id)
    setup.engine.advance(
        case_id,
        "correct_particulars",
        {"person": person, "reason": reason},
        setup.secretary(case.cell_id),
        case.version,
        on=TODAY,
    )


def test_a_correction_changes_the_person_and_the_history_says_old_to_new(setup: Setup) -> None:
    case_id = setup.case_in("in_class", setup.dong_lo_cell)
    case = setup.case(case_id)
    with setup.engine.session() as session:
        before = session.get(Person, case.person_id)
        assert before is not None
    correct(setup, case_id, {"full_name": "Nguyễn Thị Hoà Bình", "birth_date": "1998-04-03"})
    correct(setup, case_id, {"full_name": "Nguyễn Thị Hòa Bình"}, reason="Dấu đặt sai")
    after = setup.case(case_id)
    assert after.state == "in_class" and after.version == case.version + 2
    with setup.engine.session() as session:
        person = session.get(Person, case.person_id)
        assert person is not None
        assert person.full_name == "Nguyễn Thị Hòa Bình"
        assert person.birth_date == date(1998, 4, 3)
        assert person.gender == before.gender  # what was not named stays
        assert person.name_key == "nguyen thi hoa binh"  # search finds the new name
        rows = list(
            session.exec(
                select(HistoryEvent)
                .where(HistoryEvent.case_id == case_id)
                .order_by(HistoryEvent.seq)  # type: ignore[arg-type]
            )
        )
        assert history.verify_case(session, case_id).intact
        assert replay.disagreements(replay.expected(rows), after, person) == []
    changes = particulars.corrections(rows)
    assert sorted(changes[case.version + 1]) == [
        ("birth_date", before.birth_date.isoformat(), "1998-04-03"),
        ("full_name", before.full_name, "Nguyễn Thị Hoà Bình"),
    ]
    assert changes[case.version + 2] == [
        ("full_name", "Nguyễn Thị Hoà Bình", "Nguyễn Thị Hòa Bình")
    ]


def test_particulars_can_be_corrected_in_every_open_state_and_no_closed_one() -> None:
    spec = process.event("correct_particulars")
    assert spec is not None and spec.target is None and spec.acted_by == "cell"
    assert set(spec.sources) == set(process.OPEN_STATES)


def test_a_correction_naming_nothing_new_is_refused_field_by_field(sqlite_setup: Setup) -> None:
    setup = sqlite_setup
    case_id = setup.case_in("nominated", setup.dong_lo_cell)
    with setup.engine.session() as session:
        person = session.get(Person, setup.case(case_id).person_id)
        assert person is not None
    with pytest.raises(Refusal) as refused:
        correct(setup, case_id, {"full_name": person.full_name, "gender": person.gender})
    assert sorted((r.field, getattr(r, "rule", None)) for r in refused.value.every()) == [
        ("person.full_name", "particulars_changed"),
        ("person.gender", "particulars_changed"),
    ]
    with pytest.raises(InvalidData) as empty:
        correct(setup, case_id, {})
    assert empty.value.field == "person"


@pytest.mark.parametrize(
    "name", ["N" * 101, "Nguyễn\x07Văn A", "Nguyễn\nVăn A", "12345", "Lê\u202eVăn"]
)
def test_a_corrected_name_is_one_line_of_letters_at_most_100_long(
    sqlite_setup: Setup, name: str
) -> None:
    setup = sqlite_setup
    case_id = setup.case_in("nominated", setup.dong_lo_cell)
    version = setup.case(case_id).version
    with pytest.raises(InvalidData) as refused:
        correct(setup, case_id, {"full_name": name})
    assert refused.value.field == "person.full_name"
    assert setup.case(case_id).version == version
