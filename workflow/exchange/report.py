"""What an import tells its caller: the whole file refused (`ImportFileError`), a row
rejected (`RowError`, with its line, column and the engine's rule), and the
`ImportReport` of a run — rows read, accepted, written, and every rejection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.text import Explained, Text


class ImportFileError(Explained):
    """The whole file is refused (empty, unreadable, wrong columns): nothing is read."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(Text(message_vi, message_en))


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    column: str | None
    text: Text
    rule: str | None = None  # the engine's rule id when a guard refused a step

    def as_dict(self, locale: str = "vi") -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "rule": self.rule,
            "message": self.text.say(locale),
        }


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool = False
    checked_only: bool = False
    rows: int = 0  # data rows read
    accepted: int = 0  # rows that passed every check (and replay, unless checked_only)
    written: int = 0  # rows committed (0 for a dry run or a check)
    errors: list[RowError] = field(default_factory=list)  # the first `max_errors`
    created_ids: list[int] = field(default_factory=list)  # case / member / class ids
    max_errors: int | None = None  # None: keep every message
    omitted: int = 0  # messages beyond `max_errors`: counted, not kept
    lines: set[int] = field(default_factory=set)  # every rejected line

    def reject(self, errors: list[RowError]) -> None:
        """Record a row's errors; past the cap only its line is kept, and counted."""
        self.lines.update(e.line for e in errors)
        room = len(errors) if self.max_errors is None else self.max_errors - len(self.errors)
        kept = errors[: max(room, 0)]
        self.errors.extend(kept)
        self.omitted += len(errors) - len(kept)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted(self.lines | {e.line for e in self.errors})

    @property
    def rejected(self) -> int:
        return len(self.rejected_lines)

    def as_dict(self, locale: str = "vi") -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "dry_run": self.dry_run,
            "checked_only": self.checked_only,
            "rows": self.rows,
            "accepted": self.accepted,
            "written": self.written,
            "rejected": self.rejected,
            "errors_omitted": self.omitted,
            "errors": [e.as_dict(locale) for e in sorted(self.errors, key=lambda e: e.line)],
        }


class RowRejected(Exception):
    """A row's checks failed: the planner stops there and the row's errors are reported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].text.en if errors else "rejected")
        self.errors = errors
