"""One data row of an import file: its cells cleaned (trimmed, NFC, Excel's numbers and
dates), read on demand as text, dates, whole numbers or yes/no, and every problem
collected as a `RowError` with the row's line and the column it concerns — so a
rejected row lists all its problems at once."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from workflow import hygiene, schema
from workflow.exchange.choices import Choices
from workflow.exchange.report import RowError, RowRejected
from workflow.text import Text

FORMULA_START = hygiene.FORMULA_START  # what the export guards with a leading apostrophe
_DMY = re.compile(r"^([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})$")  # ASCII digits only
_YES = {"1", "true", "yes", "y", "x", "có", "co", "c"}
_NO = {"0", "false", "no", "n", "không", "khong", "k"}


class Row:
    """One data row: its values by column, parsed on demand, problems collected."""

    def __init__(
        self,
        line: int,
        names: list[str],
        values: list[Any],
        today: date,
        choices: dict[str, Choices] | None = None,
    ) -> None:
        self.line, self.today = line, today
        self.choices = choices or {}  # the layout's choice columns (layouts.CHOICES)
        self.values = {
            n: _clean(v) for n, v in zip(names, values, strict=False) if n and v is not None
        }
        self.errors: list[RowError] = []
        self.resolved: dict[str, int | None] = {}  # member columns already looked up

    def problem(self, column: str | None, vi: str, en: str, rule: str | None = None) -> None:
        self.errors.append(RowError(self.line, column, Text(vi, en), rule))

    def has(self, column: str) -> bool:
        return self.values.get(column) is not None

    def text(self, column: str, required: bool = False) -> str | None:
        value = self.values.get(column)
        if value is None:
            if required:
                self.problem(column, f"Thiếu '{column}'", f"'{column}' is empty")
            return None
        if isinstance(value, date):
            return value.isoformat()
        try:  # the rules every form and the API apply: one line, names with a letter
            return schema.clean_text(
                value,
                column,
                Text(column, column),
                person_name=column in schema.NAME_FIELDS,
                longest=schema.TEXT_MAX,
            )
        except schema.InvalidData as error:
            self.errors.append(RowError(self.line, column, error.text, None))
            return None

    def choice(self, column: str, required: bool = False) -> str | None:
        """The code a choice column names — by its code or its label, in Vietnamese or
        English, whatever the case and the diacritics (choices.py)."""
        text = self.text(column, required)
        if text is None:
            return None
        choices = self.choices[column]
        code = choices.match(text)
        if code is None:
            self.errors.append(RowError(self.line, column, choices.refusal(text), None))
        return code

    def day(self, column: str, required: bool = False) -> date | None:
        value = self.values.get(column)
        if value is None:
            if required:
                self.problem(column, f"Thiếu ngày '{column}'", f"The date '{column}' is empty")
            return None
        parsed = _parse_day(value)
        if parsed is None or parsed < schema.EARLIEST:
            self.problem(
                column,
                f"'{value}' không phải ngày có thật (dùng YYYY-MM-DD hoặc DD/MM/YYYY)",
                f"'{value}' is not a real date (use YYYY-MM-DD or DD/MM/YYYY)",
            )
            return None
        if parsed > self.today:
            self.problem(
                column,
                f"Ngày {parsed:%d/%m/%Y} ở tương lai",
                f"{parsed:%d/%m/%Y} is in the future",
            )
            return None
        return parsed

    def number(self, column: str, required: bool = False) -> int | None:
        text = self.text(column, required)
        if text is None:
            return None
        if re.fullmatch(r"[0-9]{1,9}(\.0+)?", text):
            return int(float(text))
        self.problem(
            column,
            f"'{text}' không phải số nguyên không âm",
            f"'{text}' is not a whole number ≥ 0",
        )
        return None

    def flag(self, column: str) -> bool:
        text = self.text(column)
        if text is None:
            return False
        lowered = text.lower()
        if lowered in _YES:
            return True
        if lowered not in _NO:
            self.problem(column, f"'{text}' phải là có/không", f"'{text}' must be yes or no")
        return False

    def reject_if_errors(self) -> None:
        if self.errors:
            raise RowRejected(self.errors)


def _clean(value: Any) -> str | date | None:
    """A cell's value: text trimmed and NFC-normalised (Vietnamese typed on a Mac comes
    decomposed), dates as dates, whole floats (Excel's numbers) as digits."""
    if value.__class__ is not str:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        value = str(value)
    text: str = value.strip()
    if not text:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if text[0] == "'" and text[1:2] in FORMULA_START:  # the export's guard against formulas
        text = text[1:]
    if "  " in text or "\t" in text or "\n" in text:
        text = " ".join(text.split())
    return text


def _parse_day(value: str | date) -> date | None:
    if isinstance(value, date):
        return value
    match = _DMY.match(value)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(value) if value.isascii() else None
    except ValueError:
        return None
