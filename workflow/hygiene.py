"""Input hygiene and output safety, each rule once.

In: what a one-line field, a free-text field, a person's name and a number may hold —
the checks `schema`, the directory's actions, the import and the web's parameters all
use (they raise their own errors; these functions only judge).

Out: values already stored before these checks existed still reach mail headers,
spreadsheets and Word files; the cleaners here make them safe there — a header on one
line, no character XML cannot hold, no text a spreadsheet would run as a formula.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

NAME_MAX = 100  # a person's or member's full name

# Characters no one-line field holds: control and format characters (Unicode Cc, Cf —
# zero-width spaces and direction marks included), line and paragraph separators
# (Zl, Zp), surrogates (Cs). Free text (a note, a reason, a comment) may keep its line
# breaks, nothing else of these. Listed as ranges (Unicode 14, Python 3.11's tables;
# tests/test_hygiene.py checks them against unicodedata over every code point) so one
# regular expression finds them: a category lookup per character cost 14 µs a name.
REFUSED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605),
    (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891),
    (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF), (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
LINE_BREAKS = frozenset("\n\r")


def _class(ranges: tuple[tuple[int, int], ...], escape: str) -> str:
    return "".join(
        escape.format(a) if a == b else escape.format(a) + "-" + escape.format(b) for a, b in ranges
    )


def _without_line_breaks(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """The ranges with LF (0x0A) and CR (0x0D) taken out."""
    kept: list[tuple[int, int]] = []
    for a, b in ranges:
        for hole in (0x0A, 0x0D):
            if a <= hole <= b:
                if a < hole:
                    kept.append((a, hole - 1))
                a = hole + 1
        if a <= b:
            kept.append((a, b))
    return tuple(kept)


_PYTHON = "\\U{0:08x}"  # how `re` names a code point
_ECMA = "\\u{0:04x}"  # how a JSON Schema pattern names one of the BMP
_REFUSED = re.compile("[" + _class(REFUSED_RANGES, _PYTHON) + "]")
_REFUSED_IN_FREE_TEXT = re.compile(
    "[" + _class(_without_line_breaks(REFUSED_RANGES), _PYTHON) + "]"
)

# The same rule as JSON Schema patterns (ECMA 262 and Python `re` read them alike), so
# the OpenAPI document states what the server refuses: the Basic Multilingual Plane's
# ranges (jsonschema-rs takes no surrogate range in a pattern); the server also refuses the
# few format characters beyond it.
_BMP = tuple((a, b) for a, b in REFUSED_RANGES if b <= 0xFFFF and a != 0xD800)
ONE_LINE_PATTERN = "^[^" + _class(_BMP, _ECMA) + "]*$"
FREE_TEXT_PATTERN = "^[^" + _class(_without_line_breaks(_BMP), _ECMA) + "]*$"


def refused_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character `text` may not hold, or None. `multiline`: CR and LF pass."""
    found = (_REFUSED_IN_FREE_TEXT if multiline else _REFUSED).search(text)
    return found.group() if found else None


def describe(char: str) -> str:
    """A character as a message can show it: U+000A, U+200B …"""
    return f"U+{ord(char):04X}"


def has_letter(text: str) -> bool:
    """True when `text` holds a letter of any script: a name is more than blanks,
    digits, punctuation and invisible characters."""
    return any(unicodedata.category(char).startswith("L") for char in text)


# ── numbers ───────────────────────────────────────────────────────────────
# ASCII digits only: str.isdigit() says yes to "²" (which int() refuses) and int()
# reads "٣" as 3 — neither is a number anyone types into Ketnap on purpose.
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
NATURAL_NUMBER = re.compile(r"[0-9]+")


def asked_id(text: str) -> int | None:
    """The id a search names by number ("123" or "#123"), or None."""
    return whole_number(text.strip().removeprefix("#").strip(), digits=10)


def whole_number(text: str, *, negative: bool = False, digits: int = 10) -> int | None:
    """`text` (trimmed) as an int if it is ASCII digits — at most `digits` of them, with
    a leading minus when `negative` — else None."""
    text = text.strip()
    pattern = WHOLE_NUMBER if negative else NATURAL_NUMBER
    if not pattern.fullmatch(text) or len(text.lstrip("-")) > digits:
        return None
    return int(text)


# ── outputs ───────────────────────────────────────────────────────────────
# What XML 1.0 cannot hold (so neither .xlsx nor .docx): C0 controls but tab, line feed
# and carriage return; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")
_SPACES = re.compile(" {2,}")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run


def xml_text(value: str) -> str:
    """`value` without the characters XML cannot hold (they are dropped)."""
    return _NOT_XML.sub("", value)


def one_line(value: str) -> str:
    """`value` on one line, as a mail header or a file name needs it: every line break
    and control character becomes one space."""
    return _SPACES.sub(" ", _NOT_ONE_LINE.sub(" ", value)).strip()


def formula_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never runs: text starting like a formula
    ("=HYPERLINK(…)") gets a leading apostrophe, which Ketnap's import strips again.
    Other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_text(value: Any) -> Any:
    """An XLSX cell: formula-safe, and without what XML cannot hold."""
    return formula_safe(xml_text(value)) if isinstance(value, str) else value
