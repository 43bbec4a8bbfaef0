"""Reading API input: a JSON object body, typed query parameters, ids in range.

Anything malformed raises InvalidData (→ 400 with the field named), so no input
reaches the engine or the database in a shape they cannot store.
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from workflow.engine import NotFound
from workflow.schema import InvalidData, number

MAX_ID = 2**31 - 1  # ids and versions are 32-bit in every database we run on
TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")


def json_object(allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The request's body as a JSON object (400 unless it is one)."""
    if not request.is_json:
        raise InvalidData(
            "body",
            "Nội dung yêu cầu phải là JSON (Content-Type: application/json)",
            "The request body must be JSON (Content-Type: application/json)",
        )
    try:
        body = request.get_json()
    except (BadRequest, RecursionError, UnicodeDecodeError):
        body = _NOT_JSON
    if body is _NOT_JSON:
        raise InvalidData("body", "Nội dung không phải JSON hợp lệ", "The body is not valid JSON")
    if not isinstance(body, dict):
        raise InvalidData(
            "body", "Nội dung phải là một đối tượng JSON", "The body must be a JSON object"
        )
    check_text(body)
    if allowed is not None:
        for key in body:
            if key not in allowed:
                raise InvalidData(key, f"Trường '{key}' không hợp lệ", f"Unknown field '{key}'")
    return body


_NOT_JSON = object()


def check_text(value: Any) -> None:
    """Refuse strings no database stores: NUL characters and lone UTF-16 surrogates."""
    pending = [value]
    while pending:  # iterative: nesting depth is the client's choice
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and not _storable(item):
            raise InvalidData(
                "body",
                "Văn bản chứa ký tự không hợp lệ (NUL hoặc mã UTF-16 lẻ)",
                "Text contains characters that cannot be stored (NUL or a lone surrogate)",
            )


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def whole_number(value: Any, field: str, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """A JSON integer within bounds (booleans and floats are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidData(
            field,
            f"'{field}' phải là số nguyên từ {minimum} đến {maximum}",
            f"'{field}' must be a whole number from {minimum} to {maximum}",
        )
    return value


def query_int(
    name: str, default: int | None, minimum: int = 0, maximum: int = MAX_ID
) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return number(raw, name, minimum=minimum, maximum=maximum)  # ASCII digits only


def query_bool(name: str) -> bool | None:
    raw = (request.args.get(name) or "").strip().lower()
    if raw == "":
        return None
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise InvalidData(name, f"'{name}' phải là true hoặc false", f"'{name}' must be true or false")


def query_text(name: str, max_length: int = 200) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if len(raw) > max_length or not _storable(raw):
        raise InvalidData(
            name,
            f"'{name}' quá dài hoặc chứa ký tự không hợp lệ",
            f"'{name}' is too long or contains characters that cannot be stored",
        )
    return raw


def query_choice(name: str, choices: tuple[str, ...]) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if raw not in choices:
        raise InvalidData(
            name,
            f"'{raw[:50]}' không phải giá trị hợp lệ của '{name}'",
            f"'{raw[:50]}' is not a valid '{name}'",
        )
    return raw


def row_id(value: int) -> int:
    """A path id beyond any stored id is simply not found (and never reaches the DB)."""
    if not 0 < value <= MAX_ID:
        raise NotFound(value)
    return value
