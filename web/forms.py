"""HTML forms generated from the process table's field specs — never written by hand.

`EventForm` turns an Event's FieldSpecs (plus the act's date and a note) into a tree
of `Widget`s that one recursive template macro renders; `data_from_form` reads the
posted form back into the nested dict `engine.nominate/advance` expects. A refusal
or malformed datum is shown next to the widget its `field` names, with what the
user typed kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from web.context import dmy, label, locale
from workflow import hygiene, process
from workflow.directory.classes import ClassChoice
from workflow.guards import Refusal
from workflow.models import Member, Organisation
from workflow.process import Event, FieldSpec
from workflow.schema import InvalidData

PREFIX = "f."  # form names of event data; "on", "note", "version" stand apart
LIST_ROWS = 3  # rows offered for a list field (e.g. sponsors: two, plus a spare)
MAX_LIST_ROWS = 20
LONG_TEXT = ("comment", "reason")  # free-text fields that deserve a text area

STATUS_LABELS: dict[str, Any] = {
    "official": _l("official"),
    "probationary": _l("probationary"),
    "removed": _l("removed"),
}
_DMY = re.compile(r"^\s*([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})\s*$")  # ASCII digits
_ISO = re.compile(r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$")


def choice_label(value: str | None) -> str:
    """The process table's label of a choice code, in the reader's language."""
    return process.choice_label(value, locale())


def status_label(value: str) -> str:
    return str(STATUS_LABELS.get(value, value))


@dataclass(frozen=True)
class FieldError:
    """A message to show next to one widget (or at the top of the form)."""

    message: str
    rule: str | None = None
    source: str | None = None


@dataclass
class Option:
    value: str
    text: str
    note: str = ""  # e.g. a member's status, shown beside the name


@dataclass
class Widget:
    path: str  # "person.full_name", "sponsors.0.member_id", "on"
    name: str  # the form field's name
    kind: str  # a FieldSpec type, or "textarea"
    label: str
    required: bool
    value: str = ""
    values: list[str] = field(default_factory=list)  # for multi-valued widgets
    options: list[Option] = field(default_factory=list)
    children: list[Widget] = field(default_factory=list)
    error: FieldError | None = None
    hint: str = ""

    @property
    def dom_id(self) -> str:
        return "w-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    def walk(self) -> Iterable[Widget]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Choices:
    """What the select boxes offer: the members the actor may name as sponsor or helper
    (workflow.directory.members.pickable: none out of the actor's scope) and the cells
    one may pick."""

    members: list[Member] = field(default_factory=list)
    cells: list[Organisation] = field(default_factory=list)
    # the class picker (workflow.directory.classes.pickable): classes by name and date,
    # and the organisations that may hold a new class (the cell and those above it)
    classes: list[ClassChoice] = field(default_factory=list)
    holders: list[Organisation] = field(default_factory=list)

    def member_options(self) -> list[Option]:
        return [
            Option(str(m.id), m.full_name, status_label(m.status))
            for m in self.members
            if m.status != "removed"
        ]

    def cell_options(self) -> list[Option]:
        return [Option(str(c.id), c.name) for c in self.cells]

    def class_options(self, kind: str) -> list[Option]:
        return [
            Option(str(c.id), f"{c.name} — {dmy(c.starts_on)}", c.organisation)
            for c in self.classes
            if c.kind == kind
        ]

    def holder_options(self) -> list[Option]:
        return [Option(str(o.id), o.name) for o in self.holders]


@dataclass
class EventForm:
    """One event's form: its widgets, its top-level error and its fixed inputs."""

    event: Event
    widgets: list[Widget]
    form_error: FieldError | None = None
    version: int | None = None

    @property
    def has_errors(self) -> bool:
        return self.form_error is not None or any(
            w.error is not None for top in self.widgets for w in top.walk()
        )


def build_form(
    event: Event,
    choices: Choices,
    posted: MultiDict[str, str] | None = None,
    error: FieldError | None = None,
    error_field: str | None = None,
    defaults: dict[str, Any] | None = None,
    today: date | None = None,
    version: int | None = None,
) -> EventForm:
    """The form of `event`, filled with what was posted (or defaults), with `error` placed."""
    posted = posted if posted is not None else MultiDict()
    fresh = not posted
    defaults = defaults or {}
    widgets = [
        _widget(spec, PREFIX + spec.name, spec.name, choices, posted, fresh, defaults)
        for spec in event.fields
    ]
    on_label = event.on_label_en if label_is_english() else event.on_label_vi
    on_value = posted.get("on", "") if not fresh else (dmy(today) if today else "")
    widgets.append(
        Widget(
            "on",
            "on",
            "date",
            on_label,
            True,
            value=on_value,
            hint=str(_l("dd/mm/yyyy — the day it happened, not later than today")),
        )
    )
    widgets.append(
        Widget("note", "note", "textarea", str(_l("Note")), False, value=posted.get("note", ""))
    )
    form = EventForm(event, widgets, version=version)
    if error is not None:
        _place(form, error, error_field)
    return form


def label_is_english() -> bool:
    return locale() == "en"


def _widget(
    spec: FieldSpec,
    name: str,
    path: str,
    choices: Choices,
    posted: MultiDict[str, str],
    fresh: bool,
    defaults: dict[str, Any],
) -> Widget:
    kind = "textarea" if spec.type == "text" and spec.name in LONG_TEXT else spec.type
    widget = Widget(path, name, kind, label(spec), spec.required)
    if spec.type == "object":
        widget.children = [
            _widget(
                part, f"{name}.{part.name}", f"{path}.{part.name}", choices, posted, fresh, defaults
            )
            for part in spec.parts
        ]
        return widget
    if spec.type == "list":
        rows = max(LIST_ROWS, _posted_rows(posted, name))
        for i in range(rows):
            row = Widget(f"{path}.{i}", f"{name}.{i}", "row", f"{label(spec)} {i + 1}", False)
            row.children = [
                _widget(
                    part,
                    f"{name}.{i}.{part.name}",
                    f"{path}.{i}.{part.name}",
                    choices,
                    posted,
                    fresh,
                    defaults,
                )
                for part in spec.parts
            ]
            widget.children.append(row)
        return widget
    widget.options = _options(spec, choices)
    if spec.type == "members":
        widget.values = posted.getlist(name) if not fresh else _as_list(defaults.get(path))
    elif spec.type == "bool":
        default = defaults.get(path, spec.default)
        widget.value = ("on" if name in posted else "") if not fresh else ("on" if default else "")
    elif fresh:
        default = defaults.get(path, spec.default)
        widget.value = _show(default)
    else:
        widget.value = posted.get(name, "")
    return widget


def _options(spec: FieldSpec, choices: Choices) -> list[Option]:
    """What a select box offers (none for other widgets)."""
    if spec.type in ("member", "members"):
        return choices.member_options()
    if spec.type == "organisation":
        # where a new class is held: the cell or an organisation above it (process._class_fields)
        holder = spec.name == "class_organisation_id"
        return choices.holder_options() if holder else choices.cell_options()
    if spec.type == "class":
        return choices.class_options(spec.choices[0])
    if spec.type == "choice":
        return [Option(c, choice_label(c)) for c in spec.choices]
    return []


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return dmy(value)
    return str(value)


def _posted_rows(posted: MultiDict[str, str], name: str) -> int:
    rows = 0
    for key in posted:
        if key.startswith(name + "."):
            index = key[len(name) + 1 :].split(".", 1)[0]
            number = hygiene.whole_number(index, digits=4)
            if number is not None:
                rows = max(rows, number + 1)
    return min(rows, MAX_LIST_ROWS)


def _place(form: EventForm, error: FieldError, error_field: str | None) -> None:
    """Attach the error to the widget its field names, or the nearest enclosing one."""
    paths = {w.path: w for top in form.widgets for w in top.walk()}
    target = normalise_field(error_field)
    while target:
        widget = paths.get(target)
        if widget is None and f"{target}.0" in paths:
            widget = paths[target]  # pragma: no cover — lists are registered by path
        if widget is not None:
            widget.error = error
            return
        target = target.rsplit(".", 1)[0] if "." in target else ""
    form.form_error = error


def normalise_field(error_field: str | None) -> str:
    """'sponsors[0].member_id' → 'sponsors.0.member_id'; event-data prefixes dropped."""
    if not error_field:
        return ""
    text = re.sub(r"\[(\d+)\]", r".\1", error_field)
    return text.removeprefix("data.")


def error_of(exc: Refusal | InvalidData, locale: str) -> tuple[FieldError, str | None]:
    if isinstance(exc, Refusal):
        return FieldError(exc.message(locale), exc.rule, exc.source), exc.field
    return FieldError(exc.message(locale), "invalid_data", None), exc.field


# ── reading a posted form back into event data ───────────────────────────
def data_from_form(specs: tuple[FieldSpec, ...], posted: MultiDict[str, str]) -> dict[str, Any]:
    """The event data the form carries, shaped as the field specs say."""
    result: dict[str, Any] = {}
    for spec in specs:
        value = _read(spec, PREFIX + spec.name, spec.name, posted)
        if value is not None:
            result[spec.name] = value
    return result


def _read(spec: FieldSpec, name: str, path: str, posted: MultiDict[str, str]) -> Any:
    if spec.type == "object":
        part_values = {
            part.name: _read(part, f"{name}.{part.name}", f"{path}.{part.name}", posted)
            for part in spec.parts
        }
        if not spec.required and not any(_filled(v) for v in part_values.values()):
            return None
        return {k: v for k, v in part_values.items() if v is not None}
    if spec.type == "list":
        rows = []
        for i in range(_posted_rows(posted, name)):
            row = {
                part.name: _read(part, f"{name}.{i}.{part.name}", f"{path}.{i}.{part.name}", posted)
                for part in spec.parts
            }
            if any(_filled(v) for v in row.values()):
                rows.append({k: v for k, v in row.items() if v is not None})
        return rows or None
    if spec.type == "members":
        chosen = [v for v in posted.getlist(name) if v.strip()]
        return chosen or None
    if spec.type == "bool":
        return name in posted
    raw = posted.get(name, "").strip()
    if not raw:
        return None
    if spec.type == "date":
        return iso_date(raw, path, spec.label_vi, spec.label_en)
    return raw


def _filled(value: Any) -> bool:
    return value not in (None, False, "", [], {})


def iso_date(raw: str, path: str, label_vi: str, label_en: str) -> str:
    """dd/mm/yyyy (or ISO) typed by a person → ISO for the engine; else a clear error."""
    text = raw.strip()
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            pass
    elif _ISO.match(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise InvalidData(
        path,
        f"'{text}' không phải ngày hợp lệ cho '{label_vi}' — hãy nhập theo dạng dd/mm/yyyy",
        f"'{text}' is not a valid date for '{label_en}' — use dd/mm/yyyy",
    )
