"""workflow.hygiene: what a field may hold, and the output cleaners (no database)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from workflow import hygiene, schema
from workflow.process import EVENTS, NOMINATE


@pytest.mark.parametrize(
    "char",
    [
        "\n",
        "\r",
        "\t",
        "\x00",
        "\x0b",
        "\x1f",
        "\x7f",
        "\x85",
        "\u200b",
        "\u202e",
        "\u2028",
        "\u2029",
        "\ufeff",
        "\U000e0001",
    ],
)
def test_one_line_text_refuses_line_breaks_and_control_characters(char: str) -> None:
    assert hygiene.refused_character(f"Nguyễn{char}Văn") == char


def test_free_text_keeps_line_breaks_only() -> None:
    assert hygiene.refused_character("Dòng một\r\nDòng hai", multiline=True) is None
    assert hygiene.refused_character("a\tb", multiline=True) == "\t"
    assert hygiene.refused_character("a\u2028b", multiline=True) == "\u2028"


def test_vietnamese_and_ordinary_punctuation_pass() -> None:
    assert hygiene.refused_character("Nguyễn Thị Hoà, Đoàn-Thanh (Lò) 'Bé' №3 — ổn") is None


@pytest.mark.parametrize(
    ("text", "letter"),
    [("Lò", True), ("Ổ", True), ("李", True), ("---", False), ("123", False), ("\u200b", False)],
)
def test_a_name_needs_a_letter(text: str, letter: bool) -> None:
    assert hygiene.has_letter(text) is letter


@pytest.mark.parametrize("text", ["²", "٣", "７", "𝟕", "1²", "3.0", "1e3", " ", "", "--1", "+1"])
def test_only_ascii_digits_are_a_number(text: str) -> None:
    assert hygiene.whole_number(text) is None


def test_ascii_digits_are_a_number() -> None:
    assert hygiene.whole_number(" 042 ") == 42
    assert hygiene.whole_number("-7") is None
    assert hygiene.whole_number("-7", negative=True) == -7
    assert hygiene.whole_number("1" * 11) is None  # more digits than allowed


@pytest.mark.parametrize("value", ["²", "٣", True, "1.5", None, [1]])
def test_schema_number_refuses_in_both_languages(value: object) -> None:
    with pytest.raises(schema.InvalidData) as raised:
        schema.number(value, "page")
    assert raised.value.field == "page"
    assert "0–9" in raised.value.message_vi or "từ" in raised.value.message_vi


def test_xml_text_drops_what_xml_cannot_hold_and_keeps_the_rest() -> None:
    assert hygiene.xml_text("A\x00\x0b\x1fB\tC\nD\uffff") == "AB\tC\nD"


def test_one_line_folds_every_break_and_control_into_one_space() -> None:
    assert hygiene.one_line("Nguyễn Văn Xuống\r\n\x0bDòng\u2028 ") == "Nguyễn Văn Xuống Dòng"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_become_text(start: str) -> None:
    assert hygiene.formula_safe(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"
    assert hygiene.spreadsheet_text(f"{start}A\x0b") == f"'{start}A"
    assert hygiene.formula_safe(-3) == -3  # a number is not a formula


def test_the_refused_ranges_are_exactly_the_refused_categories() -> None:
    """Every code point: refused by the server iff its category is Cc, Cf, Cs, Zl or Zp
    (a Python with newer Unicode tables than 14.0 fails here: update the ranges)."""
    categories = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    for code in range(0x110000):
        char = chr(code)
        expected = unicodedata.category(char) in categories
        assert (hygiene.refused_character(char) is not None) is expected, f"U+{code:04X}"


def test_the_published_patterns_refuse_what_the_server_refuses() -> None:
    """Over the whole Basic Multilingual Plane (surrogates aside): the JSON Schema's
    pattern and the server's rule agree on every character."""
    one_line = re.compile(hygiene.ONE_LINE_PATTERN)
    free = re.compile(hygiene.FREE_TEXT_PATTERN)
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.category(char) == "Cs":
            continue
        refused = hygiene.refused_character(char) is not None
        assert (one_line.fullmatch(char) is None) is refused, f"U+{code:04X}"
        refused_free = hygiene.refused_character(char, multiline=True) is not None
        assert (free.fullmatch(char) is None) is refused_free, f"U+{code:04X}"


def test_the_json_schema_states_the_limits() -> None:
    person = schema.json_schema(NOMINATE.fields)["properties"]["person"]["properties"]
    name = person["full_name"]
    assert name["maxLength"] == hygiene.NAME_MAX and name["pattern"] == hygiene.ONE_LINE_PATTERN
    reason = next(
        schema.json_schema(e.fields)["properties"]["reason"] for e in EVENTS if e.name == "reject"
    )
    assert reason["pattern"] == hygiene.FREE_TEXT_PATTERN
