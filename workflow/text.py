"""Words for people: one bilingual text type for every message Ketnap writes, and dates
as Vietnamese paperwork prints them.

Users read Vietnamese; API callers and the English interface read English. A refusal,
a data error, an import error and a form error all carry one `Text`, so every layer
picks the language the same way: `text.say(locale)`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

LOCALES = ("vi", "en")


@dataclass(frozen=True)
class Text:
    """One sentence in Vietnamese (the users' language) and English."""

    vi: str
    en: str

    def say(self, locale: str = "vi") -> str:
        return self.en if locale == "en" else self.vi

    def __add__(self, other: Text) -> Text:
        return Text(self.vi + other.vi, self.en + other.en)


class Explained(Exception):
    """An error that tells the user what is wrong, in their language; nothing was written.

    `field` names the datum at fault (a form shows the message beside it), or None.
    `also` holds the other problems found in the same input, so a form can show every
    one of them at once (`every()`: this one first).
    """

    def __init__(self, text: Text, field: str | None = None) -> None:
        super().__init__(text.en)
        self.text, self.field = text, field
        self.also: tuple[Explained, ...] = ()

    def every(self) -> list[Explained]:
        """This problem and every other one found with it, in the order found."""
        return [self, *self.also]

    def message(self, locale: str = "vi") -> str:
        return self.text.say(locale)

    @property
    def message_vi(self) -> str:
        return self.text.vi

    @property
    def message_en(self) -> str:
        return self.text.en


E = TypeVar("E", bound=Explained)


def together(problems: list[E]) -> E:
    """The first problem, carrying the others (each flattened) in `also`."""
    first = problems[0]
    rest: list[Explained] = [*first.also, *problems[1:]]
    first.also = tuple(each for problem in rest for each in problem.every())
    return first


def dmy(day: date | datetime | None, missing: str = "—") -> str:
    """A date as Vietnamese documents write it: 05/09/2025 (`missing` when there is none)."""
    return day.strftime("%d/%m/%Y") if day else missing


def fold(text: str) -> str:
    """A name as a search compares it: no diacritics, no case, single spaces —
    "Nguyễn Văn Đặng" → "nguyen van dang" (đ is a letter of its own, not a d with a mark,
    so Unicode's decomposition leaves it: it is mapped by hand)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.casefold().split())
