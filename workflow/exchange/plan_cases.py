"""A case row, checked and turned into the engine calls that replay it: the nomination,
then each step the row reached in the order it happened, its date checked against the
step before, its data judged by the process table's field specs. The papers of
probation go between the ceremony and the confirmation vote (or the removal); steps
the engine needs data for that old records lack get the layout's defaults.

Nothing is written here: replay.py makes the calls, import_cases.py runs the rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow import process, schema
from workflow.exchange.layouts import (
    CLOSING_STEPS,
    DATE_COLUMNS,
    DEFAULT_COMMENT,
    DEFAULT_THEORY_CLASS,
    MAIN_STEPS,
    NOT_RECORDED,
    OPTIONAL_COMMITTEE_STEPS,
    PATH_STATES,
    PROBATION_STEPS,
    StepLayout,
)
from workflow.exchange.lookups import Directory
from workflow.exchange.rows import Row
from workflow.models import Organisation
from workflow.schema import InvalidData


@dataclass(frozen=True)
class Step:
    event: str
    on: date
    data: dict[str, Any]
    columns: dict[str, str]  # the event's field → the column it came from


@dataclass
class CasePlan:
    line: int
    cell: Organisation
    nominated_on: date
    nomination: dict[str, Any]
    steps: list[Step]
    person_keys: tuple[tuple[Any, ...], ...]


def person_keys(
    full_name: str, birth: date, national_id: str | None
) -> tuple[tuple[Any, ...], ...]:
    """How the engine tells people apart: national id, or name and birth date."""
    keys: list[tuple[Any, ...]] = [("name", full_name, birth)]
    if national_id:
        keys.append(("id", national_id))
    return tuple(keys)


def plan_case(row: Row, directory: Directory) -> CasePlan:
    """Check one case row and turn it into the engine calls that replay it."""
    cell = directory.organisation(row, "cell", cells_only=True)
    nominated_on = row.day("nominated_on", required=True)
    birth = row.day("birth_date", required=True)
    target = row.choice("target_state", required=True)  # a state of TARGET_STATES
    person = {
        "full_name": row.text("full_name", required=True),
        "birth_date": birth,
        "gender": row.choice("gender", required=True),
        "ethnicity": row.text("ethnicity") or "Kinh",
        "religion": row.text("religion"),
        "education": row.text("education"),
        "occupation": row.choice("occupation", required=True),
        "village": row.text("village"),
        "youth_union_member": row.flag("youth_union_member"),
        "trade_union_member": row.flag("trade_union_member"),
        "national_id": row.text("national_id"),
    }
    if birth and nominated_on and birth >= nominated_on:
        row.problem(
            "birth_date",
            f"Ngày sinh {birth:%d/%m/%Y} không trước ngày giới thiệu {nominated_on:%d/%m/%Y}",
            f"Born {birth:%d/%m/%Y}, not before the nomination {nominated_on:%d/%m/%Y}",
        )
    row.reject_if_errors()
    assert cell is not None and cell.id is not None and nominated_on and birth and target
    nomination = {
        "person": person,
        "cell_id": cell.id,
        "nominated_by": row.choice("nominated_by", required=True),
        "nomination_ref": row.text("nomination_ref", required=True),
    }
    _parse_as(row, process.NOMINATE, nomination, {"cell_id": "cell"})
    steps = _steps(row, directory, cell, target, nominated_on)
    row.reject_if_errors()
    return CasePlan(
        row.line,
        cell,
        nominated_on,
        nomination,
        steps,
        person_keys(str(person["full_name"]), birth, row.text("national_id")),
    )


def _parse_as(
    row: Row, spec: process.Event | None, data: dict[str, Any], columns: dict[str, str]
) -> None:
    """Let the process table's field specs judge the data (choices, required fields)."""
    assert spec is not None
    if not spec.fields:
        return
    try:
        schema.parse(spec.fields, data)
    except InvalidData as problem:
        name = problem.field.removeprefix("person.")
        row.problem(columns.get(name, name), problem.message_vi, problem.message_en)


def _needs_committee(cell: Organisation, directory: Directory) -> bool:
    """The committee votes unless the cell's own committee may decide (process.py)."""
    parent = directory.organisations.get(cell.parent_id)
    return parent is None or not parent.may_admit


def _steps(
    row: Row, directory: Directory, cell: Organisation, target: str, nominated_on: date
) -> list[Step]:
    """The row's steps in the order they happened, each date checked against the last.
    The papers of probation go between the ceremony and the confirmation vote (or the
    removal); a probationary member's papers, when given, after the ceremony."""
    steps: list[Step] = []
    previous = ("nominated_on", nominated_on)
    ceremony: date | None = None
    for layout in _main_steps(row, directory, cell, target):
        on = row.day(layout.date_column, required=True)
        if on is None:
            continue
        if on < previous[1]:
            row.problem(
                layout.date_column,
                f"{layout.date_column} ({on:%d/%m/%Y}) trước {previous[0]} "
                f"({previous[1]:%d/%m/%Y}): các bước không đúng thứ tự",
                f"{layout.date_column} ({on:%d/%m/%Y}) is before {previous[0]} "
                f"({previous[1]:%d/%m/%Y}): the steps are out of order",
            )
        if ceremony is not None and layout.event in ("cell_confirm_vote", "remove"):
            vote = layout.event == "cell_confirm_vote"
            steps += _probation_steps(row, directory, cell, ceremony, on, required=vote)
            ceremony = None  # the papers are placed
        steps.append(_step(row, directory, cell, layout, on))
        if layout.event == "hold_ceremony":
            ceremony = on
        previous = (layout.date_column, on)
    if ceremony is not None:  # still probationary
        steps += _probation_steps(row, directory, cell, ceremony, None, required=False)
    return steps


def _main_steps(
    row: Row, directory: Directory, cell: Organisation, target: str
) -> list[StepLayout]:
    """The path's steps this row must replay, in order, with the closing step if any."""
    closing = CLOSING_STEPS.get(target)
    if closing is None:
        reached = PATH_STATES.index(target)  # steps up to the one that leads to `target`
        wanted = list(MAIN_STEPS[:reached])
        beyond = MAIN_STEPS[reached:]
    else:
        # closed cases replay the steps they reached: those with a date, a prefix of the path
        dated = [i for i, s in enumerate(MAIN_STEPS) if row.has(s.date_column)]
        last = max(dated, default=-1)
        wanted, beyond = list(MAIN_STEPS[: last + 1]), MAIN_STEPS[last + 1 :]
        limit = "hold_ceremony" if target == "removed" else None
        _check_closing(row, target, wanted, limit)
    committee_needed = _needs_committee(cell, directory)
    named = wanted[-1] if wanted and closing is None else None  # the step `target` names
    chosen = []
    for layout in wanted:
        optional = layout.event in OPTIONAL_COMMITTEE_STEPS and not committee_needed
        if optional and layout is not named and not row.has(layout.date_column):
            continue  # this cell's committee may decide: its vote is not a step
        chosen.append(layout)
    for layout in beyond:
        if row.has(layout.date_column):
            row.problem(
                layout.date_column,
                f"Có ngày '{layout.date_column}' của bước sau bước đã đạt '{target}'",
                f"'{layout.date_column}' belongs to a step after the state reached, '{target}'",
            )
    if closing is not None:
        chosen.append(closing)
    return chosen


def _check_closing(row: Row, target: str, wanted: list[StepLayout], limit: str | None) -> None:
    events = [s.event for s in wanted]
    if target in ("rejected", "withdrawn") and "hold_ceremony" in events:
        row.problem(
            "ceremony_on",
            "Hồ sơ đã kết nạp không thể 'không kết nạp' hay 'rút hồ sơ': dùng 'removed' (xóa tên)",
            "An admitted case cannot be rejected or withdrawn: use 'removed'",
        )
    if limit and limit not in events:
        row.problem(
            "ceremony_on",
            "Chỉ xóa tên được đảng viên dự bị: cần ngày lễ kết nạp",
            "Only a probationary member can be removed: the ceremony date is needed",
        )
    if target == "removed" and "confirm" in events:
        row.problem(
            "official_decision_on",
            "Đảng viên đã được công nhận chính thức không thể bị xóa tên ở đây",
            "An official member cannot be removed here",
        )


def _probation_steps(
    row: Row,
    directory: Directory,
    cell: Organisation,
    ceremony: date,
    until: date | None,
    required: bool,
) -> list[Step]:
    """Theory class, self-review, helper's comment: all needed before a confirmation vote."""
    steps = []
    for layout in PROBATION_STEPS:
        on = row.day(layout.date_column, required=required)
        if on is None:
            continue
        if on < ceremony:
            row.problem(
                layout.date_column,
                f"{layout.date_column} ({on:%d/%m/%Y}) trước lễ kết nạp ({ceremony:%d/%m/%Y})",
                f"{layout.date_column} ({on:%d/%m/%Y}) is before the ceremony "
                f"({ceremony:%d/%m/%Y})",
            )
        if until is not None and on > until:
            row.problem(
                layout.date_column,
                f"{layout.date_column} ({on:%d/%m/%Y}) sau bước tiếp theo ({until:%d/%m/%Y})",
                f"{layout.date_column} ({on:%d/%m/%Y}) is after the next step ({until:%d/%m/%Y})",
            )
        steps.append(_step(row, directory, cell, layout, on))
    steps.sort(key=lambda s: s.on)
    return steps


def _step(row: Row, directory: Directory, cell: Organisation, layout: StepLayout, on: date) -> Step:
    columns = {name: column for name, column in layout.fields}
    data: dict[str, Any] = {}
    for name, column in layout.fields:
        value: Any
        if column in DATE_COLUMNS:
            value = row.day(column)
        elif column.endswith(("_voters", "_members", "_votes_for")):
            value = row.number(column)
        elif column in row.choices:
            value = row.choice(column)
        else:
            value = row.text(column)
        data[name] = value
    _complete(row, directory, cell, layout.event, on, data, columns)
    spec = process.event(layout.event)
    assert spec is not None
    _parse_as(row, spec, data, columns)
    deciding = directory.acting_for(cell, spec.acted_by)
    if not directory.actor.acts_for(deciding.path):
        row.problem(
            layout.date_column,
            f"Bước '{spec.label_vi}' do {deciding.name} thực hiện: chỉ cán bộ của"
            " cấp đó (hoặc quản trị viên) được nhập",
            f"'{spec.label_en}' was {deciding.name}'s act: only its officers (or an"
            " admin) may import it",
        )
    return Step(layout.event, on, data, columns)


@dataclass(frozen=True)
class _Step:
    """What completing one step's data may read: the row, its file's members, its cell."""

    row: Row
    directory: Directory
    cell: Organisation
    on: date
    data: dict[str, Any]
    columns: dict[str, str]

    def helper(self) -> int | None:
        helper = (
            self.directory.member(self.row, "helper", self.cell) if self.row.has("helper") else None
        )
        return helper or self.directory.member(self.row, "sponsor1", self.cell)


def _assign_sponsors(step: _Step) -> None:
    step.data.update(_sponsors(step.row, step.directory, step.cell, step.columns))


def _submit_dossier(step: _Step) -> None:
    for name in ("application_on", "declaration_on", "introductions_on", "comments_on"):
        step.columns[name] = name
        step.data[name] = step.row.day(name) or step.on
    if step.row.has("union_resolution_ref"):
        step.columns["union_resolution_on"] = "union_resolution_on"
        step.data["union_resolution_on"] = step.row.day("union_resolution_on")


def _verify_background(step: _Step) -> None:
    row = step.row
    step.columns["requests_sent_on"] = "verification_requested_on"
    step.data["requests_sent_on"] = (
        row.day("verification_requested_on") or row.day("dossier_on") or step.on
    )
    step.data["conclusion"] = "meets_standards"


def _hold_ceremony(step: _Step) -> None:
    step.columns["helpers"] = "helper"
    step.data["helpers"] = [step.helper()]


def _record_helper_comment(step: _Step) -> None:
    step.columns["helper_id"] = "helper"
    step.data["helper_id"] = step.helper()
    step.data["comment"] = step.data.get("comment") or DEFAULT_COMMENT


def _complete_theory_class(step: _Step) -> None:
    step.data["class_name"] = step.data.get("class_name") or DEFAULT_THEORY_CLASS
    step.data["certificate_no"] = step.data.get("certificate_no") or NOT_RECORDED


def _decide_admission(step: _Step) -> None:
    step.data["received_on"] = step.data.get("received_on") or step.on


def _reject(step: _Step) -> None:
    step.data["by"] = step.data.get("by") or "cell"


# The fields a plain copy of the row's columns cannot give, per event: defaults the old
# records lack, and references to members.
_COMPLETERS: dict[str, Callable[[_Step], None]] = {
    "assign_sponsors": _assign_sponsors,
    "submit_dossier": _submit_dossier,
    "verify_background": _verify_background,
    "hold_ceremony": _hold_ceremony,
    "record_helper_comment": _record_helper_comment,
    "complete_theory_class": _complete_theory_class,
    "decide_admission": _decide_admission,
    "reject": _reject,
}


def _complete(
    row: Row,
    directory: Directory,
    cell: Organisation,
    event: str,
    on: date,
    data: dict[str, Any],
    columns: dict[str, str],
) -> None:
    """Complete the step's data with what its event needs beyond the row's columns."""
    completer = _COMPLETERS.get(event)
    if completer is not None:
        completer(_Step(row, directory, cell, on, data, columns))


def _sponsors(
    row: Row, directory: Directory, cell: Organisation, columns: dict[str, str]
) -> dict[str, Any]:
    sponsors = []
    for n in (1, 2):
        member_id = directory.member(row, f"sponsor{n}", cell)
        since = row.day(f"sponsor{n}_since", required=row.has(f"sponsor{n}"))
        if member_id is not None and since is not None:
            sponsors.append({"member_id": member_id, "alongside_since": since})
    if not row.has("sponsor1") and not row.has("sponsor2"):
        row.problem("sponsor1", "Thiếu người giới thiệu", "No sponsor given")
    columns["sponsors"] = "sponsor1"
    union = None
    if row.has("union_resolution_ref") or row.has("union_resolution_kind"):
        columns["union_resolution"] = "union_resolution_ref"
        union = {
            "kind": row.choice("union_resolution_kind", required=True),
            "ref": row.text("union_resolution_ref", required=True),
            "dated": row.day("union_resolution_on", required=True),
        }
    return {"sponsors": sponsors, "union_resolution": union}
