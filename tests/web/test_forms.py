"""Unit tests of the form generator: posted forms back to event data, error placement
and dates typed the Vietnamese way. No database."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict

from web import forms
from workflow import process
from workflow.schema import InvalidData


@pytest.fixture(autouse=True)
def request_context() -> object:
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


def event(name: str) -> process.Event:
    spec = process.event(name)
    assert spec is not None
    return spec


def test_nested_person_fields_become_a_nested_object() -> None:
    posted = MultiDict(
        {
            "f.person.full_name": " Lê Thị Hoa ",
            "f.person.birth_date": "02/03/1999",
            "f.person.youth_union_member": "on",
            "f.cell_id": "4",
        }
    )
    data = forms.data_from_form(process.NOMINATE.fields, posted)
    assert data["person"]["full_name"] == "Lê Thị Hoa"
    assert data["person"]["birth_date"] == "1999-03-02"
    assert data["person"]["youth_union_member"] is True
    assert data["person"]["trade_union_member"] is False
    assert data["cell_id"] == "4"
    assert "nominated_by" not in data  # left empty: the engine names it as missing


def test_empty_rows_of_a_list_are_dropped_and_an_empty_optional_object_is_omitted() -> None:
    posted = MultiDict(
        {
            "f.sponsors.0.member_id": "7",
            "f.sponsors.0.alongside_since": "01/01/2020",
            "f.sponsors.1.member_id": "",
            "f.sponsors.1.alongside_since": "",
            "f.sponsors.2.member_id": "9",
            "f.sponsors.2.alongside_since": "2020-06-30",
            "f.union_resolution.kind": "",
        }
    )
    data = forms.data_from_form(event("assign_sponsors").fields, posted)
    assert data == {
        "sponsors": [
            {"member_id": "7", "alongside_since": "2020-01-01"},
            {"member_id": "9", "alongside_since": "2020-06-30"},
        ]
    }


def test_several_members_are_read_from_checkboxes() -> None:
    posted = MultiDict([("f.helpers", "3"), ("f.helpers", "5")])
    assert forms.data_from_form(event("hold_ceremony").fields, posted) == {"helpers": ["3", "5"]}


@pytest.mark.parametrize("typed", ["31/02/2026", "2026-13-01", "hôm qua", "1/1/26"])
def test_an_impossible_date_names_its_field_and_the_expected_format(typed: str) -> None:
    with pytest.raises(InvalidData) as raised:
        forms.iso_date(typed, "person.birth_date", "Ngày sinh", "Date of birth")
    assert raised.value.field == "person.birth_date"
    assert "dd/mm/yyyy" in raised.value.message_vi and "Ngày sinh" in raised.value.message_vi


@pytest.mark.parametrize(
    ("typed", "iso"),
    [("5/9/2024", "2024-09-05"), ("05.09.2024", "2024-09-05"), ("2024-09-05", "2024-09-05")],
)
def test_dates_are_read_day_first(typed: str, iso: str) -> None:
    assert forms.iso_date(typed, "on", "Ngày", "Date") == iso


def test_an_error_lands_on_the_widget_its_field_names_or_the_nearest_enclosing_one() -> None:
    spec = event("assign_sponsors")
    error = forms.FieldError("sai", "rule", "source")
    exact = forms.build_form(
        spec, forms.Choices(), error=error, error_field="sponsors[1].member_id"
    )
    by_path = {w.path: w for top in exact.widgets for w in top.walk()}
    assert by_path["sponsors.1.member_id"].error is error
    enclosing = forms.build_form(spec, forms.Choices(), error=error, error_field="sponsors[7].x")
    assert {w.path for top in enclosing.widgets for w in top.walk() if w.error} == {"sponsors"}
    nowhere = forms.build_form(spec, forms.Choices(), error=error, error_field=None)
    assert nowhere.form_error is error and nowhere.has_errors


def test_every_event_of_the_process_table_gets_a_form() -> None:
    for spec in process.EVENTS:
        form = forms.build_form(spec, forms.Choices())
        names = {w.name for top in form.widgets for w in top.walk()}
        assert {"on", "note"} <= names
        for field in spec.fields:
            assert forms.PREFIX + field.name in names


def test_every_choice_of_the_process_table_has_a_label() -> None:
    def choices(fields: tuple[process.FieldSpec, ...]) -> set[str]:
        found: set[str] = set()
        for field in fields:
            found |= set(field.choices) | choices(field.parts)
        return found

    every = set().union(*(choices(e.fields) for e in process.EVENTS))
    assert every <= set(process.CHOICE_LABELS)
    assert all(process.CHOICE_LABELS[c].vi and process.CHOICE_LABELS[c].en for c in every)


def test_a_choice_reads_in_the_readers_language() -> None:
    assert process.choice_label("female") == "Nữ"
    assert process.choice_label("female", "en") == "Female"
    assert process.choice_label("a_code_from_old_data") == "a_code_from_old_data"
    assert process.choice_label(None) == "—"
