"""Checks for the small records officers keep by hand (targets, classes, villages): each
bad value raises InvalidData naming the field, in Vietnamese and English (HTTP 400).
Form posts send strings, the API sends JSON types: both are accepted.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow import hygiene
from workflow.schema import NAME_FIELDS, InvalidData, clean_text, parse_date
from workflow.text import Text

MAX_ID = 2**31 - 1  # an INTEGER column on every database
FIRST_YEAR, LAST_YEAR = 1930, 2100  # the Party's founding year; nothing plans beyond


def record(data: Any, known: set[str]) -> dict[str, Any]:
    """`data` as a dict with no unknown field; empty strings count as absent."""
    if not isinstance(data, dict):
        raise InvalidData("data", "Dữ liệu phải là một đối tượng", "Data must be an object")
    for key in data:
        if key not in known:
            raise InvalidData(
                str(key), f"Trường '{key}' không hợp lệ ở đây", f"Unknown field '{key}'"
            )
    return {k: v for k, v in data.items() if v is not None and v != ""}


def text(data: dict[str, Any], field: str, label_vi: str, *, required: bool = True) -> str:
    """One line of text (a person's name: with a letter, ≤ hygiene.NAME_MAX)."""
    value = data.get(field, "")
    if not isinstance(value, str) or len(value) > 300:
        raise InvalidData(
            field, f"'{label_vi}' phải là chuỗi ≤ 300 ký tự", f"'{field}' must be text ≤ 300 chars"
        )
    if not value.strip():
        if required:
            raise InvalidData(field, f"Thiếu '{label_vi}'", f"'{field}' is required")
        return ""
    return clean_text(value.strip(), field, Text(label_vi, field), person_name=field in NAME_FIELDS)


def whole_number(
    data: dict[str, Any],
    field: str,
    label_vi: str,
    *,
    minimum: int = 0,
    maximum: int = MAX_ID,
    required: bool = True,
) -> int | None:
    value = data.get(field)
    if value is None:
        if required:
            raise InvalidData(field, f"Thiếu '{label_vi}'", f"'{field}' is required")
        return None
    if isinstance(value, str):
        parsed = hygiene.whole_number(value, negative=minimum < 0, digits=12)
        if parsed is None:
            raise InvalidData(
                field,
                f"'{label_vi}' phải là số nguyên (chỉ dùng chữ số 0–9)",
                f"'{field}' must be a whole number (the digits 0–9 only)",
            )
        value = parsed
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidData(
            field,
            f"'{label_vi}' phải là số nguyên từ {minimum} đến {maximum}",
            f"'{field}' must be a whole number from {minimum} to {maximum}",
        )
    return value


def identifier(data: dict[str, Any], field: str, label_vi: str) -> int:
    value = whole_number(data, field, label_vi, minimum=1)
    assert value is not None
    return value


def day(
    data: dict[str, Any],
    field: str,
    label_vi: str,
    *,
    required: bool = True,
    latest: date | None = None,
) -> date | None:
    """A date within FIRST_YEAR–LAST_YEAR; not after `latest` (today, for what has
    happened already) when given."""
    value = data.get(field)
    if value is None:
        if required:
            raise InvalidData(field, f"Thiếu '{label_vi}'", f"'{field}' is required")
        return None
    parsed = parse_date(value, field)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidData(
            field,
            f"'{label_vi}' phải trong khoảng {FIRST_YEAR}–{LAST_YEAR}",
            f"'{field}' must lie within {FIRST_YEAR}–{LAST_YEAR}",
        )
    if latest is not None and parsed > latest:
        raise InvalidData(
            field,
            f"'{label_vi}': ngày {parsed:%d/%m/%Y} ở tương lai; hôm nay là {latest:%d/%m/%Y}",
            f"'{field}': {parsed:%d/%m/%Y} is in the future; today is {latest:%d/%m/%Y}",
        )
    return parsed


def choice(data: dict[str, Any], field: str, label_vi: str, choices: tuple[str, ...]) -> str:
    value = data.get(field)
    if value not in choices:
        raise InvalidData(
            field,
            f"'{label_vi}' phải là một trong: {', '.join(choices)}",
            f"'{field}' must be one of: {', '.join(choices)}",
        )
    return str(value)


def not_before(first: date | None, then: date | None, field: str) -> None:
    if first is not None and then is not None and then < first:
        raise InvalidData(
            field,
            f"Ngày {then:%d/%m/%Y} trước ngày bắt đầu {first:%d/%m/%Y}",
            f"{then:%d/%m/%Y} is before the start {first:%d/%m/%Y}",
        )
