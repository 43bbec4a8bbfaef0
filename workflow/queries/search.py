"""Finding a candidate by part of their name, or by national ID, in any database.

SQLite folds case for ASCII letters only, so "đặng" would miss "Đặng". Names are
written in title case, so the needle is tried as typed, lower, title and upper case:
one indexed-free OR of LIKEs that behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import col

from workflow.models import Person


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def person_matches(needle: str) -> ColumnElement[bool]:
    """Persons whose full name contains `needle` (case-insensitively) or whose ID is it."""
    text = " ".join(needle.split())
    variants = dict.fromkeys((text, text.lower(), text.title(), text.upper()))
    return or_(
        *(col(Person.full_name).ilike(_like_pattern(v), escape="\\") for v in variants),
        col(Person.national_id) == text,
    )
