"""The period a report covers: its first and last day, the day "overdue" is judged on,
and its months as keys (year × 12 + month − 1) with the labels the tables print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflow.schema import InvalidData

FIRST_DAY, LAST_DAY = date(1930, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    as_of: date  # "overdue" is judged on this day (the end, or today if sooner)

    @property
    def months(self) -> list[int]:
        """Month keys (year × 12 + month − 1) from the first month to the last."""
        first = self.start.year * 12 + self.start.month - 1
        last = self.end.year * 12 + self.end.month - 1
        return list(range(first, last + 1))


def period(date_from: date, date_to: date, as_of: date | None = None) -> Period:
    """Check the period (InvalidData naming the field when it cannot be reported on)."""
    for field, day in (("from", date_from), ("to", date_to)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidData(
                field,
                f"Ngày {day:%d/%m/%Y} nằm ngoài khoảng {FIRST_DAY.year}–{LAST_DAY.year}",
                f"{day:%d/%m/%Y} lies outside {FIRST_DAY.year}–{LAST_DAY.year}",
            )
    if date_to < date_from:
        raise InvalidData(
            "to",
            f"Ngày kết thúc {date_to:%d/%m/%Y} trước ngày bắt đầu {date_from:%d/%m/%Y}",
            f"The end {date_to:%d/%m/%Y} is before the start {date_from:%d/%m/%Y}",
        )
    day = date_to if as_of is None else min(as_of, date_to)
    return Period(date_from, date_to, day)


def month_label(key: int) -> str:
    year, month = divmod(key, 12)
    return f"{month + 1:02d}/{year}"


def month_iso(key: int) -> str:
    year, month = divmod(key, 12)
    return f"{year}-{month + 1:02d}"
