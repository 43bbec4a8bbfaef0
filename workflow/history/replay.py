"""What the case row and the person row must say, recomputed from the history alone.

The nomination's row holds the person's particulars and the cell; a transfer's row the
new cell; every accepted act the date its effect records. A case or person row edited
by hand (a state, a cell, a version rolled back, a name, a birth date, an ID number)
then disagrees with what its rows recomputed, and each disagreement is named.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflow import effects, process
from workflow.models import Case, HistoryEvent, Person

# The case's date each effect records from the act's `on` (effects.py): replayed here.
_DATED: dict[Callable[..., None], str] = {
    effects.enrol_in_class: "class_started_on",
    effects.pass_class: "certificate_on",
    effects.cell_vote: "cell_resolution_on",
    effects.committee_vote: "committee_resolution_on",
    effects.decide_admission: "decision_on",
    effects.hold_ceremony: "ceremony_on",
    effects.complete_theory_class: "theory_class_on",
    effects.record_self_review: "self_review_on",
    effects.record_helper_comment: "helper_comment_on",
    effects.cell_confirm_vote: "confirmation_cell_resolution_on",
}
_CLOSING: tuple[Callable[..., None], ...] = (effects.close, effects.confirm, effects.remove)
# An event that corrects the particulars records the corrected fields under "person".
PARTICULARS = ("full_name", "birth_date", "gender", "national_id")
PERSON_FIELDS = (*PARTICULARS, "ethnicity", "religion", "education", "occupation", "village")


@dataclass
class Expected:
    """The case's and the person's columns as the history says they must be."""

    case: dict[str, Any] = field(default_factory=dict)
    person: dict[str, Any] = field(default_factory=dict)


def expected(rows: list[HistoryEvent]) -> Expected:
    result = Expected()
    for row in rows:
        _apply(result, row, json.loads(row.data))
    if rows:
        result.case["version"] = len(rows)
        result.case["state"] = rows[-1].to_state
    return result


def _apply(result: Expected, row: HistoryEvent, data: dict[str, Any]) -> None:
    case = result.case
    if row.from_state is None or row.to_state != row.from_state:
        case["state_since"] = row.on
    if row.event == "nominate":
        case.update(nominated_on=row.on, open=True, closed_on=None)
        if "cell_id" in data:  # bulk-generated benchmark rows carry no data
            case["cell_id"] = data["cell_id"]
    if isinstance(data.get("person"), dict):
        for name in PERSON_FIELDS:
            if name in data["person"]:
                result.person[name] = data["person"][name]
    if row.outcome != "failed_vote":
        _effect(case, row, data)


def _effect(case: dict[str, Any], row: HistoryEvent, data: dict[str, Any]) -> None:
    """The columns the event's effect sets (effects.py), from the row alone."""
    spec = process.event(row.event)
    effect = spec.effect if spec is not None else None
    if effect is effects.transfer and "to_cell_id" in data:
        case["cell_id"] = data["to_cell_id"]
    if effect in _DATED:
        case[_DATED[effect]] = row.on
    if effect is effects.decide_admission:
        case["decision_received_on"] = _day(data.get("received_on")) or row.on
    if effect is effects.submit_dossier:
        case["verification_requested_on"] = _day(data.get("requests_sent_on")) or row.on
    if effect in _CLOSING:
        case.update(open=False, closed_on=row.on)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def disagreements(wanted: Expected, case: Case | None, person: Person | None) -> list[str]:
    """Each column of the case or person row that its history contradicts, named:
    "case cell edited: 7, history says 4"."""
    found: list[str] = []
    if case is not None:
        for name, value in wanted.case.items():
            actual = getattr(case, name)
            if actual != value:
                found.append(
                    f"case {_label(name)} edited: {_shown(actual)}, history says {_shown(value)}"
                )
    if person is not None:
        for name, value in wanted.person.items():
            actual = getattr(person, name)
            if isinstance(actual, date):
                actual = actual.isoformat()
            if (actual or None) != (value or None):
                found.append(
                    f"person {_label(name)} edited: {_shown(actual)}, history says {_shown(value)}"
                )
    return found


_LABELS = {"cell_id": "cell", "full_name": "name", "national_id": "national id"}


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " "))


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
