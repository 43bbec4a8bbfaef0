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
# breaks, nothing else of these.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
LINE_BREAKS = frozenset("\n\r")

# The same rule as a JSON Schema pattern (ECMA 262 and Python `re` read it alike), so
# the OpenAPI document states what the server refuses. It lists the Basic Multilingual
# Plane's format characters; the server also refuses the few beyond it.
_FORMAT_BMP = (
    "\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e"
    "\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
)
ONE_LINE_PATTERN = f"^[^\\u0000-\\u001f\\u007f-\\u009f{_FORMAT_BMP}]*$"
FREE_TEXT_PATTERN = (
    f"^[^\\u0000-\\u0009\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f{_FORMAT_BMP}]*$"
)


def refused_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character `text` may not hold, or None. `multiline`: CR and LF pass."""
    if text.isascii():  # the common case, quickly: only C0 controls and DEL to look for
        for char in text:
            if (char < " " or char == "\x7f") and not (multiline and char in LINE_BREAKS):
                return char
        return None
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES and not (
            multiline and char in LINE_BREAKS
        ):
            return char
    return None


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
