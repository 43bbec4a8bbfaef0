"""What each correction of a candidate's particulars changed, old → new, read from the
history alone: the nomination's row holds the particulars as first recorded, each
`correct_particulars` row the fields it corrected (workflow/history/replay.py rebuilds
the person row the same way)."""

from __future__ import annotations

import json
from typing import Any

from workflow.models import HistoryEvent

CORRECTION = "correct_particulars"


def corrections(rows: list[HistoryEvent]) -> dict[int, list[tuple[str, Any, Any]]]:
    """For each correction row (by its seq): (field, value before, value after), in the
    order the row gives them. `rows` are one case's history, oldest first."""
    particulars: dict[str, Any] = {}
    found: dict[int, list[tuple[str, Any, Any]]] = {}
    for row in rows:
        try:
            data = json.loads(row.data or "{}")
        except ValueError:
            continue
        person = data.get("person") if isinstance(data, dict) else None
        if not isinstance(person, dict):
            continue
        if row.event == CORRECTION:
            found[row.seq] = [(name, particulars.get(name), new) for name, new in person.items()]
        particulars.update(person)
    return found
