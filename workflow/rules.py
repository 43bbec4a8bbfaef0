"""Pure functions behind every guard and deadline: ages in months, votes, working days.

No database, no clock: each takes the dates it reasons about. Working days come from
the `holidays` package's Vietnam calendar, which knows lunar Tết, the Hùng Kings'
day and the government's swapped days (Saturday 26/04/2025 worked, Friday 02/05/2025
off), so nobody maintains a hand-written holiday list.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31/01 + 1 → 28/02)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day))


def full_months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (negative when `end` is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and add_months(start, months) > end:
        months -= 1
    elif months < 0 and add_months(start, months) < end:
        months += 1
    return months


def age_in_months(birth: date, on: date) -> int:
    """Age counted in months, as QĐ 294 §1.1 counts it."""
    return full_months_between(birth, on)


def age_in_years(birth: date, on: date) -> int:
    return age_in_months(birth, on) // 12


def is_of_admission_age(birth: date, on: date, min_age: int) -> bool:
    return age_in_months(birth, on) >= min_age * 12


def is_over_max_age(birth: date, on: date, max_age: int) -> bool:
    """Older than `max_age` counted in months: 60 years 0 months is still within."""
    return age_in_months(birth, on) > max_age * 12


def is_youth_age(birth: date, on: date, youth_age: int) -> bool:
    """Of Youth Union age: not yet past `youth_age` full years (≤ 30)."""
    return age_in_years(birth, on) <= youth_age


def meets_two_thirds(votes_for: int, base: int) -> bool:
    """At least two-thirds of the base, in integers: 5 of 7, 2 of 3, 6 of 9."""
    return votes_for * 3 >= base * 2


def votes_needed(base: int) -> int:
    return -(-base * 2 // 3)


def certificate_expiry(issued_on: date, valid_months: int) -> date:
    """The first day on which the awareness certificate is no longer valid."""
    return add_months(issued_on, valid_months)


def certificate_is_valid(issued_on: date, on: date, valid_months: int) -> bool:
    """Younger than `valid_months` on `on`: a certificate exactly 60 months old is not."""
    return issued_on <= on < certificate_expiry(issued_on, valid_months)


def has_shared_enough_time(alongside_since: date, on: date, required_months: int) -> bool:
    return full_months_between(alongside_since, on) >= required_months


def probation_end(ceremony_on: date, probation_months: int) -> date:
    """Probation runs `probation_months` from the ceremony (Charter art. 5.1)."""
    return add_months(ceremony_on, probation_months)


def official_date(probation_ends_on: date) -> date:
    """Official from the day probation ends, whenever the vote came (QĐ 294 §4.2b)."""
    return probation_ends_on


def seniority_start(decision_on: date) -> date:
    """Party seniority counts from the admission decision's date (Charter art. 5.4)."""
    return decision_on


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


@lru_cache(maxsize=65536)  # the holidays library answers in ~40 µs; a replay asks thousands
def is_working_day(day: date) -> bool:
    return bool(_calendar().is_working_day(day))


@lru_cache(maxsize=65536)  # pure, and every deadline of every transition asks it
def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (`start` itself not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    if end <= start:
        return 0
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(n)))
