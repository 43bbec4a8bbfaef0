"""Finding a candidate by part of their name, or by national ID, in any database.

Names are compared folded (workflow/text.py `fold`: no diacritics, no case), against
the folded copy each person row keeps (`Person.name_key`), so "nguyen van", "NGUYỄN" and
"anh tuyet" find "Nguyễn Văn …" and "Hoàng Thị Ánh Tuyết" alike on SQLite and
PostgreSQL, whatever their collations.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import col

from workflow.models import Person
from workflow.text import fold


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def person_matches(needle: str) -> ColumnElement[bool]:
    """Persons whose folded name contains the folded `needle`, or whose ID is it."""
    return or_(
        col(Person.name_key).like(_like_pattern(fold(needle)), escape="\\"),
        col(Person.national_id) == " ".join(needle.split()),
    )
