"""What a rule says when it refuses an act: the Problem a guard finds (in Vietnamese and
English, with the field it concerns, and the same rule broken elsewhere), and the
Refusal the engine raises for it (workflow/guards.py turns one into the other).
Nothing is written when an act is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.text import Explained, Text


class Refusal(Explained):
    """A rule refused the event. Nothing was written."""

    def __init__(
        self, rule: str, source: str, message_vi: str, message_en: str, field: str | None = None
    ) -> None:
        super().__init__(Text(message_vi, message_en), field)
        self.rule, self.source = rule, source


@dataclass(frozen=True)
class Problem:
    vi: str
    en: str
    field: str | None = None
    also: tuple[Problem, ...] = ()  # the same rule broken elsewhere (e.g. another sponsor row)


def problems(found: list[Problem]) -> Problem | None:
    """One Problem for several (the first, carrying the others), or None for none."""
    return Problem(found[0].vi, found[0].en, found[0].field, tuple(found[1:])) if found else None
