"""Event data, parsed and checked against the process table's field specs.

Bad input raises InvalidData naming the field, in Vietnamese and English; the same
specs yield the JSON Schema the API publishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from workflow import hygiene
from workflow.text import Explained, Text, together

if TYPE_CHECKING:  # annotations only: workflow.enrolment (under effects) raises InvalidData
    from workflow.process import FieldSpec

EARLIEST = date(1900, 1, 1)  # no act, birth or membership Ketnap records lies before
TEXT_MAX = 2000
# Free text keeps its line breaks; every other text field is one line. A person's or
# member's name is one line with a letter in it, at most hygiene.NAME_MAX characters.
FREE_TEXT_FIELDS = frozenset({"reason", "comment", "note"})
NAME_FIELDS = frozenset({"full_name"})


class InvalidData(Explained):
    """Malformed input (HTTP 400): a missing, unknown or ill-typed field."""

    field: str

    def __init__(self, field: str, message_vi: str, message_en: str) -> None:
        super().__init__(Text(message_vi, message_en), field)

    def __str__(self) -> str:
        return f"{self.field}: {self.text.en}"


def parse_date(value: Any, field: str) -> date:
    if isinstance(value, datetime):  # a spreadsheet's date cell: the day is what counts
        return _not_before_1900(value.date(), field)
    if isinstance(value, date):
        return _not_before_1900(value, field)
    if isinstance(value, str) and value.isascii():  # "２０２５-01-01" is no date either
        try:
            return _not_before_1900(date.fromisoformat(value.strip()), field)
        except ValueError:
            pass
    raise InvalidData(
        field,
        f"'{_shown(value)}' không phải ngày hợp lệ (YYYY-MM-DD)",
        f"'{_shown(value)}' is not a valid date (YYYY-MM-DD)",
    )


def _not_before_1900(day: date, field: str) -> date:
    if day < EARLIEST:
        raise InvalidData(
            field,
            f"Ngày {day.isoformat()} nằm ngoài khoảng cho phép (từ {EARLIEST:%d/%m/%Y})",
            f"{day.isoformat()} is out of range (from {EARLIEST:%d/%m/%Y} on)",
        )
    return day


def _shown(value: Any) -> str:
    """A bad value as a message may repeat it: on one line, not too long."""
    return hygiene.one_line(str(value))[:60]


def parse(specs: tuple[FieldSpec, ...], data: Any, prefix: str = "") -> dict[str, Any]:
    """Validate `data` against `specs`; return it with proper Python types.

    Every problem is found, not only the first: the InvalidData raised names the first
    and carries the others in `also` (a form shows each beside its field)."""
    if not isinstance(data, dict):
        raise InvalidData(
            prefix.rstrip(".") or "data", "Dữ liệu phải là một đối tượng", "Data must be an object"
        )
    known = {s.name for s in specs}
    problems: list[InvalidData] = [
        InvalidData(
            prefix + str(key), f"Trường '{key}' không thuộc sự kiện này", f"Unknown field '{key}'"
        )
        for key in data
        if key not in known
    ]
    result: dict[str, Any] = {}
    for spec in specs:
        try:
            result[spec.name] = _parse_field(spec, data.get(spec.name), prefix + spec.name)
        except InvalidData as problem:
            problems.append(problem)
    if problems:
        raise together(problems)
    return result


def _parse_field(spec: FieldSpec, value: Any, name: str) -> Any:
    if value is None or value == "":
        if spec.required:
            raise InvalidData(name, f"Thiếu '{spec.label_vi}'", f"'{spec.label_en}' is required")
        return spec.default
    return _parse_value(spec, value, name)


def _each(items: list[Any], parse_one: Callable[[Any, int], Any]) -> list[Any]:
    """`parse_one` over a list's items, every item's problems gathered."""
    parsed, problems = [], []
    for i, item in enumerate(items):
        try:
            parsed.append(parse_one(item, i))
        except InvalidData as problem:
            problems.append(problem)
    if problems:
        raise together(problems)
    return parsed


def _parse_value(spec: FieldSpec, value: Any, name: str) -> Any:
    return _PARSERS[spec.type](spec, value, name)


def _parse_date(spec: FieldSpec, value: Any, name: str) -> date:
    return parse_date(value, name)


def _parse_bool(spec: FieldSpec, value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", "on", 1):
        return True
    if value in ("false", "0", "off", 0):
        return False
    raise InvalidData(
        name, f"'{spec.label_vi}' phải là có/không", f"'{spec.label_en}' must be true or false"
    )


def _parse_choice(spec: FieldSpec, value: Any, name: str) -> str:
    if value not in spec.choices:
        raise InvalidData(
            name,
            f"'{value}' không phải lựa chọn hợp lệ cho '{spec.label_vi}' "
            f"({', '.join(spec.choices)})",
            f"'{value}' is not one of {', '.join(spec.choices)}",
        )
    return str(value)


def _parse_text(spec: FieldSpec, value: Any, name: str) -> str | None:
    if not isinstance(value, str | int | float):
        raise InvalidData(
            name, f"'{spec.label_vi}' phải là chuỗi ký tự", f"'{spec.label_en}' must be text"
        )
    text = str(value).strip()
    if not text:  # only blanks: as good as absent
        if spec.required:
            raise InvalidData(name, f"Thiếu '{spec.label_vi}'", f"'{spec.label_en}' is required")
        default: str | None = spec.default
        return default
    return clean_text(
        text,
        name,
        Text(spec.label_vi, spec.label_en),
        multiline=spec.name in FREE_TEXT_FIELDS,
        person_name=spec.name in NAME_FIELDS,
    )


def clean_text(
    text: str,
    field: str,
    label: Text,
    *,
    multiline: bool = False,
    person_name: bool = False,
    longest: int = TEXT_MAX,
) -> str:
    """`text` if a field may hold it, else InvalidData naming `field`: no control or
    invisible character (free text may keep line breaks), not too long, and a person's
    name holds a letter and at most hygiene.NAME_MAX characters."""
    if not storable(text):
        raise InvalidData(
            field,
            f"'{label.vi}' chứa ký tự không hợp lệ",
            f"'{label.en}' contains an invalid character",
        )
    char = hygiene.refused_character(text, multiline=multiline)
    if char is not None:
        what = (
            Text("xuống dòng", "a line break")
            if char in hygiene.LINE_BREAKS
            else Text("ký tự điều khiển hoặc vô hình", "a control or invisible character")
        )
        raise InvalidData(
            field,
            f"'{label.vi}' không được chứa {what.vi} ({hygiene.describe(char)})",
            f"'{label.en}' may not contain {what.en} ({hygiene.describe(char)})",
        )
    if person_name:
        longest = min(longest, hygiene.NAME_MAX)
        if not hygiene.has_letter(text):
            raise InvalidData(
                field,
                f"'{label.vi}' phải có ít nhất một chữ cái",
                f"'{label.en}' must contain a letter",
            )
    if len(text) > longest:
        raise InvalidData(
            field,
            f"'{label.vi}' quá dài (tối đa {longest} ký tự)",
            f"'{label.en}' is too long ({longest} characters at most)",
        )
    return text


def _parse_members(spec: FieldSpec, value: Any, name: str) -> list[int]:
    if not isinstance(value, list):
        raise InvalidData(
            name, f"'{spec.label_vi}' phải là danh sách", f"'{spec.label_en}' must be a list"
        )
    return _each(value, lambda v, i: _parse_int(v, f"{name}[{i}]", spec))


def _parse_object(spec: FieldSpec, value: Any, name: str) -> dict[str, Any]:
    parsed = parse(spec.parts, value, prefix=f"{name}.")
    if is_partial(spec):  # a correction: the parts given, and only those
        parsed = {k: v for k, v in parsed.items() if value.get(k) not in (None, "")}
        if not parsed:
            raise InvalidData(
                name,
                f"'{spec.label_vi}': hãy điền ít nhất một mục",
                f"'{spec.label_en}': fill in at least one item",
            )
    return parsed


def is_partial(spec: FieldSpec) -> bool:
    """A required object whose every part is optional records only the parts given
    (a correction of particulars), not the others as empty."""
    return spec.type == "object" and spec.required and all(not p.required for p in spec.parts)


def _parse_list(spec: FieldSpec, value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise InvalidData(
            name,
            f"'{spec.label_vi}' phải là danh sách không rỗng",
            f"'{spec.label_en}' must be a non-empty list",
        )
    return _each(value, lambda item, i: parse(spec.parts, item, prefix=f"{name}[{i}]."))


def _parse_whole(spec: FieldSpec, value: Any, name: str) -> int:
    return _parse_int(value, name, spec)


# One parser per field type of the process table (process.FIELD_TYPES).
_PARSERS: dict[str, Callable[[FieldSpec, Any, str], Any]] = {
    "date": _parse_date,
    "int": _parse_whole,
    "member": _parse_whole,
    "organisation": _parse_whole,
    "class": _parse_whole,
    "bool": _parse_bool,
    "choice": _parse_choice,
    "text": _parse_text,
    "members": _parse_members,
    "object": _parse_object,
    "list": _parse_list,
}


def _parse_int(value: Any, name: str, spec: FieldSpec) -> int:
    if isinstance(value, bool):
        raise InvalidData(
            name,
            f"'{spec.label_vi}' phải là số nguyên",
            f"'{spec.label_en}' must be a whole number",
        )
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and hygiene.WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise not_a_number(name, value)
    if not -(2**31) < number < 2**31:
        raise InvalidData(
            name, f"'{spec.label_vi}' nằm ngoài giới hạn", f"'{spec.label_en}' is out of range"
        )
    return number


def not_a_number(field: str, value: Any) -> InvalidData:
    """The refusal of a number that is not one (ASCII digits only: not "²", not "٣")."""
    return InvalidData(
        field,
        f"'{_shown(value)}' không phải số nguyên (chỉ dùng chữ số 0–9)",
        f"'{_shown(value)}' is not a whole number (use the digits 0–9 only)",
    )


def number(value: Any, field: str, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    """A whole number from a query string, a form or the command line: ASCII digits
    (a minus only when `minimum` < 0), within [minimum, maximum]; InvalidData otherwise."""
    if isinstance(value, bool):
        raise not_a_number(field, value)
    if isinstance(value, int):
        parsed: int | None = value
    else:
        parsed = hygiene.whole_number(str(value), negative=minimum < 0, digits=12)
    if parsed is None:
        raise not_a_number(field, value)
    if not minimum <= parsed <= maximum:
        raise InvalidData(
            field,
            f"'{field}' phải từ {minimum} đến {maximum}",
            f"'{field}' must lie from {minimum} to {maximum}",
        )
    return parsed


def storable(text: str) -> bool:
    """False for what no database may store: NUL (PostgreSQL refuses it) and lone
    surrogates (not UTF-8, so they could not be hashed into the history either)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def dates(
    specs: tuple[FieldSpec, ...], parsed: dict[str, Any], prefix: str = ""
) -> Iterator[tuple[str, FieldSpec, date]]:
    """Every date in parsed data: (its path as InvalidData names it, its spec, the date)."""
    for spec in specs:
        value, name = parsed.get(spec.name), prefix + spec.name
        if spec.type == "date" and isinstance(value, date):
            yield name, spec, value
        elif spec.type == "object" and isinstance(value, dict):
            yield from dates(spec.parts, value, f"{name}.")
        elif spec.type == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                yield from dates(spec.parts, item, f"{name}[{i}].")


def to_json(value: Any) -> Any:
    """Parsed data back to JSON-ready values (dates as ISO strings)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


_JSON_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "maxLength": TEXT_MAX, "pattern": hygiene.ONE_LINE_PATTERN},
    "date": {"type": "string", "format": "date"},
    "int": {"type": "integer"},
    "member": {"type": "integer"},
    "organisation": {"type": "integer"},
    "class": {"type": "integer"},
    "bool": {"type": "boolean"},
    "members": {"type": "array", "items": {"type": "integer"}},
}


def _json_type(spec: FieldSpec) -> dict[str, Any]:
    prop = dict(_JSON_TYPES[spec.type])
    if spec.type == "text" and spec.name in FREE_TEXT_FIELDS:
        prop["pattern"] = hygiene.FREE_TEXT_PATTERN
    elif spec.type == "text" and spec.name in NAME_FIELDS:
        prop["maxLength"] = hygiene.NAME_MAX
        prop["$comment"] = "a person's name: one line, with at least one letter"
    return prop


def json_schema(specs: tuple[FieldSpec, ...]) -> dict[str, Any]:
    """The JSON Schema of an event's data, derived from its field specs."""
    properties = {}
    for spec in specs:
        if spec.type == "choice":
            prop: dict[str, Any] = {"type": "string", "enum": list(spec.choices)}
        elif spec.type == "object":
            prop = json_schema(spec.parts)
        elif spec.type == "list":
            prop = {"type": "array", "minItems": 1, "items": json_schema(spec.parts)}
        else:
            prop = _json_type(spec)
        prop["title"] = spec.label_en
        prop["description"] = spec.label_vi
        if not spec.required:
            prop = {"anyOf": [prop, {"type": "null"}], "title": spec.label_en}
        properties[spec.name] = prop
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": [s.name for s in specs if s.required],
    }
