"""HTML forms generated from the process table's field specs — never written by hand.

`EventForm` turns an Event's FieldSpecs (plus the act's date and a note) into a tree
of `Widget`s that one recursive template macro renders; `data_from_form` reads the
posted form back into the nested dict `engine.nominate/advance` expects. A refusal
or malformed datum is shown next to the widget its `field` names, with what the
user typed kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import zip_longest
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from web.context import dmy, engine, label, locale
from workflow import access, hygiene, process, schema
from workflow.access import Actor
from workflow.directory import member_search, organisation_search
from workflow.directory.classes import ClassChoice
from workflow.models import Member, Organisation
from workflow.process import Event, FieldSpec
from workflow.refusal import Refusal
from workflow.schema import InvalidData
from workflow.text import Explained, together

# What turns a typed member name into a member's id (or raises InvalidData naming the
# field): the view builds it over the actor's sight (workflow.directory.member_search).
Resolver = Callable[[str, str, int | None], int]
LABEL = ".label"  # a member picker's typed name travels beside its hidden id

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
    shown: str = ""  # a member picker: the name typed or chosen (value holds the id)
    shown_values: list[str] = field(default_factory=list)  # …of a several-member picker

    @property
    def dom_id(self) -> str:
        return "w-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    def walk(self) -> Iterable[Widget]:
        yield self
        for child in self.children:
            yield from child.walk()


class CellRef(Protocol):
    """A cell a form offers in a select box (a nomination's: the actor's own cells)."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...


@dataclass
class Choices:
    """What the forms offer: the cells one may pick, and the names of the members a form
    starts with (e.g. the helper's own name). Members are not listed: a picker finds
    them by name (/api/v1/members, or the name typed resolved on the server)."""

    cells: Sequence[CellRef] = field(default_factory=list)
    member_names: dict[int, str] = field(default_factory=dict)
    cell_id: int | None = None  # the case's cell: its members come first in a picker
    # the class picker (workflow.directory.classes.pickable): classes by name and date,
    # and the organisations that may hold a new class (the cell and those above it)
    classes: list[ClassChoice] = field(default_factory=list)
    holders: list[Organisation] = field(default_factory=list)
    # a cell is found by name (/api/v1/organisations?q=, or the name typed resolved on
    # the server) rather than chosen among `cells`: a transfer may go to any of a
    # province's thousand cells
    cell_search: bool = False

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
    cell_id: int | None = None  # the case's cell, for the member pickers' suggestions

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @property
    def errors(self) -> list[tuple[Widget | None, FieldError]]:
        """Every problem, in the form's order (one without a field first): the summary
        at the top of the form links each to its widget."""
        found: list[tuple[Widget | None, FieldError]] = []
        if self.form_error is not None:
            found.append((None, self.form_error))
        found.extend((w, w.error) for top in self.widgets for w in top.walk() if w.error)
        return found

    def where(self, widget: Widget) -> str:
        """A widget's name as the summary gives it: inside a list, with its row
        ("Người giới thiệu 2 · Đảng viên")."""
        for top in self.widgets:
            for row in top.walk():
                if row.kind == "row" and widget in row.children:
                    return f"{row.label} · {widget.label}"
        return widget.label


def build_form(
    event: Event,
    choices: Choices,
    posted: MultiDict[str, str] | None = None,
    error: FieldError | None = None,
    error_field: str | None = None,
    defaults: dict[str, Any] | None = None,
    today: date | None = None,
    version: int | None = None,
    problems: Iterable[Explained] = (),
) -> EventForm:
    """The form of `event`, filled with what was posted (or defaults), with `error` and
    every one of `problems` placed beside the widget its field names."""
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
            hint=str(_l("the day it happened, not later than today")),
        )
    )
    widgets.append(
        Widget("note", "note", "textarea", str(_l("Note")), False, value=posted.get("note", ""))
    )
    form = EventForm(event, widgets, version=version, cell_id=choices.cell_id)
    if error is not None:
        _place(form, error, error_field)
    for problem in problems:
        _place(form, field_error(problem), problem.field)
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
    if spec.type == "organisation" and choices.cell_search and spec.name not in HELD_BY:
        widget.kind = "organisation_picker"
        widget.value = _show(defaults.get(path)) if fresh else posted.get(name, "")
        widget.shown = "" if fresh else posted.get(name + LABEL, "")
        return widget
    widget.options = _options(spec, choices)
    if spec.type == "members":
        _fill_members(widget, name, path, choices, posted, fresh, defaults)
    elif spec.type == "member":
        _fill_member(widget, name, path, choices, posted, fresh, defaults)
    elif spec.type == "bool":
        default = defaults.get(path, spec.default)
        widget.value = ("on" if name in posted else "") if not fresh else ("on" if default else "")
    elif fresh:
        default = defaults.get(path, spec.default)
        widget.value = _show(default)
    else:
        widget.value = posted.get(name, "")
    return widget


def _fill_member(
    widget: Widget,
    name: str,
    path: str,
    choices: Choices,
    posted: MultiDict[str, str],
    fresh: bool,
    defaults: dict[str, Any],
) -> None:
    if fresh:
        widget.value = _show(defaults.get(path))
        number = hygiene.whole_number(widget.value)
        widget.shown = choices.member_names.get(number, "") if number is not None else ""
    else:
        widget.value, widget.shown = posted.get(name, ""), posted.get(name + LABEL, "")
    number = hygiene.whole_number(widget.value)
    if not widget.shown and number is not None:
        widget.shown = choices.member_names.get(number, "")


MEMBER_ROWS = 3  # pickers offered for a several-member field (e.g. helpers)


def _fill_members(
    widget: Widget,
    name: str,
    path: str,
    choices: Choices,
    posted: MultiDict[str, str],
    fresh: bool,
    defaults: dict[str, Any],
) -> None:
    if fresh:
        ids, shown = _as_list(defaults.get(path)), []
    else:
        pairs = list(zip_longest(posted.getlist(name), posted.getlist(name + LABEL), fillvalue=""))
        ids, shown = [p[0] for p in pairs], [p[1] for p in pairs]
    shown = [
        typed or choices.member_names.get(hygiene.whole_number(i) or 0, "")
        for i, typed in zip_longest(ids, shown, fillvalue="")
    ]
    rows = min(max(MEMBER_ROWS, len(ids) + 1), MAX_LIST_ROWS)
    widget.values = (ids + [""] * rows)[:rows]
    widget.shown_values = (shown + [""] * rows)[:rows]


# An organisation field naming where a new class is held: the cell or an organisation
# above it (process._class_fields), a few offered in a select box.
HELD_BY = ("class_organisation_id",)


def _options(spec: FieldSpec, choices: Choices) -> list[Option]:
    """What a select box offers (none for other widgets)."""
    if spec.type == "organisation":
        holder = spec.name in HELD_BY
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


def field_error(problem: Explained) -> FieldError:
    """A problem as a form shows it, in the reader's language."""
    if isinstance(problem, Refusal):
        return FieldError(problem.message(locale()), problem.rule, problem.source)
    return FieldError(problem.message(locale()), "invalid_data", None)


def member_ids(specs: tuple[FieldSpec, ...], posted: MultiDict[str, str]) -> set[int]:
    """The member ids a posted form names, so the form shown again can name them."""
    found: set[int] = set()
    for spec in specs:
        _collect_ids(spec, PREFIX + spec.name, posted, found)
    return found


def _collect_ids(spec: FieldSpec, name: str, posted: MultiDict[str, str], found: set[int]) -> None:
    if spec.type == "object":
        for part in spec.parts:
            _collect_ids(part, f"{name}.{part.name}", posted, found)
    elif spec.type == "list":
        for i in range(_posted_rows(posted, name)):
            for part in spec.parts:
                _collect_ids(part, f"{name}.{i}.{part.name}", posted, found)
    elif spec.type in ("member", "members"):
        for raw in posted.getlist(name):
            number = hygiene.whole_number(raw.strip())
            if number is not None:
                found.add(number)


def member_names(who: Actor, ids: Iterable[int]) -> dict[int, str]:
    """The names of these members, of those `who` may see (others stay unnamed)."""
    names: dict[int, str] = {}
    with engine().session() as session:
        for member_id in sorted(set(ids))[: MAX_LIST_ROWS * 2]:
            member = session.get(Member, member_id)
            if member is not None and access.can_see_member(session, who, member):
                names[member_id] = member.full_name
    return names


def member_resolver(who: Actor, cell_id: int | None = None) -> Resolver:
    """A typed member name → that member's id, among those `who` may see."""

    def resolve(typed: str, field: str, prefer: int | None) -> int:
        with engine().session() as session:
            return member_search.resolve(session, who, typed, field, cell_id=cell_id, prefer=prefer)

    return resolve


def organisation_resolver(who: Actor) -> Resolver:
    """A typed cell name → that cell's id, among those `who` may name in a form."""

    def resolve(typed: str, field: str, prefer: int | None) -> int:
        with engine().session() as session:
            return organisation_search.resolve(session, who, typed, field, prefer=prefer)

    return resolve


def read_event(
    spec: Event,
    posted: MultiDict[str, str],
    resolve: Resolver | None = None,
    organisations: Resolver | None = None,
) -> tuple[dict[str, Any], str]:
    """The event data and the act's date (ISO) a posted form carries, checked as the
    engine will check them: every malformed or missing datum at once (InvalidData,
    the others in `also`), so one submit shows them all."""
    problems: list[InvalidData] = []
    data = data_from_form(spec.fields, posted, resolve, problems, organisations)
    on = posted.get("on", "").strip()
    if not on:
        problems.append(
            InvalidData("on", f"Thiếu '{spec.on_label_vi}'", f"'{spec.on_label_en}' is required")
        )
    else:
        try:
            on = iso_date(on, "on", spec.on_label_vi, spec.on_label_en)
        except InvalidData as problem:
            problems.append(problem)
    try:
        schema.parse(spec.fields, data)
    except InvalidData as found:
        already = {normalise_field(p.field) for p in problems}
        problems.extend(
            p
            for p in found.every()
            if isinstance(p, InvalidData) and normalise_field(p.field) not in already
        )
    if problems:
        raise together(problems)
    return data, on


# ── reading a posted form back into event data ───────────────────────────
def data_from_form(
    specs: tuple[FieldSpec, ...],
    posted: MultiDict[str, str],
    resolve: Resolver | None = None,
    problems: list[InvalidData] | None = None,
    organisations: Resolver | None = None,
) -> dict[str, Any]:
    """The event data the form carries, shaped as the field specs say. A date that is
    none, or a member (or cell) name that names none (or several), raises InvalidData —
    or, given `problems`, is put there and its field left out, so reading goes on."""
    reader = _Reader(posted, resolve, problems, organisations)
    result: dict[str, Any] = {}
    for spec in specs:
        value = reader.read(spec, PREFIX + spec.name, spec.name)
        if value is not None:
            result[spec.name] = value
    return result


@dataclass
class _Reader:
    posted: MultiDict[str, str]
    resolve: Resolver | None
    problems: list[InvalidData] | None
    organisations: Resolver | None = None

    def read(self, spec: FieldSpec, name: str, path: str) -> Any:
        if spec.type == "object":
            return self._object(spec, name, path)
        if spec.type == "list":
            return self._list(spec, name, path)
        if spec.type == "members":
            labels: list[str | None] = list(self.posted.getlist(name + LABEL))
            pairs = zip_longest(self.posted.getlist(name), labels, fillvalue=None)
            chosen = [
                self._member(chosen_id or "", typed, f"{path}[{i}]")
                for i, (chosen_id, typed) in enumerate(pairs)
                if (chosen_id or "").strip() or (typed or "").strip()
            ]
            return [c for c in chosen if c is not None] or None
        if spec.type == "bool":
            return name in self.posted
        if spec.type == "member":
            return self._member(self.posted.get(name, ""), self.posted.get(name + LABEL), path)
        if spec.type == "organisation" and name + LABEL in self.posted:
            return self._picked(
                self.posted.get(name, ""), self.posted[name + LABEL], path, self.organisations
            )
        raw = self.posted.get(name, "").strip()
        if not raw:
            return None
        if spec.type == "date":
            return self._guarded(lambda: iso_date(raw, path, spec.label_vi, spec.label_en))
        return raw

    def _object(self, spec: FieldSpec, name: str, path: str) -> Any:
        part_values = {
            part.name: self.read(part, f"{name}.{part.name}", f"{path}.{part.name}")
            for part in spec.parts
        }
        if not spec.required and not any(_filled(v) for v in part_values.values()):
            return None
        return {k: v for k, v in part_values.items() if v is not None}

    def _list(self, spec: FieldSpec, name: str, path: str) -> Any:
        rows = []
        for i in range(_posted_rows(self.posted, name)):
            row = {
                part.name: self.read(part, f"{name}.{i}.{part.name}", f"{path}.{i}.{part.name}")
                for part in spec.parts
            }
            typed = any(
                self.posted.get(f"{name}.{i}.{part.name}{suffix}", "").strip()
                for part in spec.parts
                for suffix in ("", LABEL)
            )
            if typed or any(_filled(v) for v in row.values()):
                rows.append({k: v for k, v in row.items() if v is not None})
        return rows or None

    def _member(self, chosen_id: str, typed: str | None, path: str) -> Any:
        """The member a picker names: the typed name resolved (the id the picker chose
        settles a name several share); the id alone when no name came with it (a client
        that posts ids); none when the name box was emptied."""
        chosen = chosen_id.strip()
        if typed is None:
            return chosen or None
        return self._picked(chosen, typed, path, self.resolve)

    def _picked(self, chosen: str, typed: str, path: str, resolve: Resolver | None) -> Any:
        """What a picker names: its typed name resolved by `resolve` (the id it chose
        settles a name several share); none when the name box was emptied."""
        typed = typed.strip()
        if not typed:
            return None
        if resolve is None:  # no directory at hand: the engine names it
            return chosen.strip() or typed
        prefer = hygiene.whole_number(chosen.strip())
        return self._guarded(lambda: str(resolve(typed, path, prefer)))

    def _guarded(self, read: Callable[[], str]) -> str | None:
        if self.problems is None:
            return read()
        try:
            return read()
        except InvalidData as problem:
            self.problems.append(problem)
            return None


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
