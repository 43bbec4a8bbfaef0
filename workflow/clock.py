"""Time is injected: code asks a clock, so tests and `--now` can travel in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, naive UTC."""
        ...

    def today(self) -> date:
        """The current calendar date in Vietnam (UTC+7), where the acts happen."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)  # the one real clock

    def today(self) -> date:
        return _vietnam_date(self.now())


@dataclass
class FixedClock:
    """A clock that says what it is told; `advance_to` lets a test walk forward."""

    moment: datetime

    @classmethod
    def on(cls, day: date) -> FixedClock:
        # 02:00 UTC is 09:00 in Hà Nội: well inside the same calendar day.
        return cls(datetime.combine(day, time(2, 0)))

    def now(self) -> datetime:
        return self.moment

    def today(self) -> date:
        return _vietnam_date(self.moment)

    def advance_to(self, day: date) -> None:
        self.moment = datetime.combine(day, time(2, 0))


def _vietnam_date(moment_utc: datetime) -> date:
    hour = moment_utc.hour + 7
    return moment_utc.date() if hour < 24 else date.fromordinal(moment_utc.toordinal() + 1)
