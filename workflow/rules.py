"""Pure functions behind every guard and deadline: ages in months, votes, working days;
and the rule parameters in force by date (`RuleParameters`, `RuleBook`).

No database, no clock: each takes the dates it reasons about. Working days come from
the `holidays` package's Vietnam calendar, which knows lunar Tết, the Hùng Kings'
day and the government's swapped days (Saturday 26/04/2025 worked, Friday 02/05/2025
off), so nobody maintains a hand-written holiday list.
"""

from __future__ import annotations

import bisect
import calendar
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays

from workflow.text import Text, dmy

# ── the rule parameters, in force by date ────────────────────────────────
# PROCESS.md: "Every number below is a rule parameter, in force by date: a set of
# parameters has an effective date and its source text, and an act is judged by the
# set in force on its `on` date." The shipped set is the one of Quy định 294-QĐ/TW
# (which replaced 232-QĐ/TW and 24-QĐ/TW) and Hướng dẫn 06-HD/TW (which replaced
# 01-HD/TW), in force from 01/07/2025; PROCESS.md documents no earlier set's numbers.
SHIPPED_FROM = date(2025, 7, 1)
SHIPPED_TEXT = Text("Quy định 294-QĐ/TW", "Regulation 294-QĐ/TW")
SHIPPED_BASIS = Text(
    "Quy định 294-QĐ/TW (thay Quy định 232-QĐ/TW và 24-QĐ/TW), Hướng dẫn 06-HD/TW "
    "(thay Hướng dẫn 01-HD/TW), Điều lệ Đảng, Hướng dẫn 12-HD/BTCTW",
    "Regulation 294-QĐ/TW (replacing 232-QĐ/TW and 24-QĐ/TW), Guidance 06-HD/TW "
    "(replacing 01-HD/TW), the Party Charter, Guidance 12-HD/BTCTW",
)


@dataclass(frozen=True)
class RuleParameters:
    """One set of the numbers of PROCESS.md, with the date it takes effect and the text it
    comes from. Defaults: the shipped set. `sources` names, per parameter, the article
    it comes from where it differs from the catalogue's (`PARAMETERS`)."""

    effective_from: date = SHIPPED_FROM
    text_vi: str = SHIPPED_TEXT.vi
    text_en: str = SHIPPED_TEXT.en
    basis_vi: str = SHIPPED_BASIS.vi
    basis_en: str = SHIPPED_BASIS.en
    sources: dict[str, str] = field(default_factory=dict, hash=False)
    sponsor_shared_months: int = 12
    youth_age: int = 30
    min_age: int = 18
    max_age: int = 60
    cell_quorum: int = 3
    certificate_valid_months: int = 60
    certificate_warn_days: tuple[int, ...] = (90, 30)
    verification_reply_days: int = 30
    decision_working_days: int = 60
    decision_extension_working_days: int = 30
    ceremony_working_days: int = 30
    theory_class_months: int = 9
    probation_months: int = 12
    probation_papers_warn_days: tuple[int, ...] = (60, 30)
    confirmation_vote_working_days: int = 30
    confirmation_decision_working_days: int = 30
    confirmation_decision_extension_working_days: int = 30
    confirm_vote_attempts: int = 3
    escalate_after_days: int = 7
    upcoming_warn_days: tuple[int, ...] = (10,)

    @property
    def text(self) -> Text:
        """The text this set comes from ("Quy định 294-QĐ/TW")."""
        return Text(self.text_vi, self.text_en or self.text_vi)

    @property
    def basis(self) -> Text:
        return Text(self.basis_vi or self.text_vi, self.basis_en or self.basis_vi or self.text_en)

    def source_of(self, name: str) -> str:
        """The article a parameter comes from in this set ("QĐ 294 §3.2.1")."""
        return self.sources.get(name) or PARAMETERS[name].source

    def values(self) -> dict[str, Any]:
        """{parameter: value} for every number of the set, in the catalogue's order."""
        return {name: getattr(self, name) for name in PARAMETERS}


PROVENANCE = ("effective_from", "text_vi", "text_en", "basis_vi", "basis_en", "sources")


@dataclass(frozen=True)
class Parameter:
    """What a parameter means, for people: its label, its unit, where it comes from."""

    label: Text
    unit: str  # a key of UNITS
    source: str  # the article in the shipped set


UNITS = {
    "months": Text("tháng", "months"),
    "years": Text("tuổi", "years of age"),
    "members": Text("đảng viên", "members"),
    "days": Text("ngày", "days"),
    "days_before": Text("ngày trước hạn", "days before"),
    "working_days": Text("ngày làm việc", "working days"),
    "votes": Text("lần biểu quyết", "votes"),
}
CHARTER_VI = "Điều lệ Đảng"
PARAMETERS: dict[str, Parameter] = {
    "sponsor_shared_months": Parameter(
        Text(
            "Thời gian người giới thiệu công tác, học tập hoặc sinh sống cùng người vào Đảng",
            "Time a sponsor has worked, studied or lived alongside the candidate",
        ),
        "months",
        "QĐ 294 §3.2.1",
    ),
    "youth_age": Parameter(
        Text(
            "Tuổi đoàn: đoàn viên đến tuổi này được Đoàn giới thiệu bằng nghị quyết",
            "Youth age: a Youth Union member up to this age is introduced by the Union",
        ),
        "years",
        f"{CHARTER_VI}, Điều 4.1",
    ),
    "min_age": Parameter(
        Text("Tuổi tối thiểu khi kết nạp (tính theo tháng)", "Minimum age at admission"),
        "years",
        "QĐ 294 §1.1",
    ),
    "max_age": Parameter(
        Text(
            "Tuổi tối đa khi kết nạp (quá tuổi cần cấp ủy có thẩm quyền đồng ý)",
            "Maximum age at admission (beyond it, the competent committee's consent)",
        ),
        "years",
        "QĐ 294 §1.1",
    ),
    "cell_quorum": Parameter(
        Text(
            "Số đảng viên chính thức tối thiểu để chi bộ biểu quyết",
            "Official members needed for a valid cell vote",
        ),
        "members",
        f"{CHARTER_VI}, Điều 24",
    ),
    "certificate_valid_months": Parameter(
        Text(
            "Thời hạn giá trị của giấy chứng nhận lớp bồi dưỡng nhận thức về Đảng",
            "Validity of the awareness class certificate",
        ),
        "months",
        "HD 06 §5.4",
    ),
    "certificate_warn_days": Parameter(
        Text(
            "Nhắc trước khi giấy chứng nhận lớp nhận thức hết hạn",
            "Reminders before the awareness certificate expires",
        ),
        "days_before",
        "HD 06 §5.4",
    ),
    "verification_reply_days": Parameter(
        Text("Thời hạn chờ trả lời thẩm tra lý lịch", "Time allowed for verification replies"),
        "days",
        "thực tiễn địa phương",
    ),
    "decision_working_days": Parameter(
        Text(
            "Thời hạn cấp ủy có thẩm quyền ra quyết định kết nạp",
            "Time for the competent committee's admission decision",
        ),
        "working_days",
        "QĐ 294 §4.3.1",
    ),
    "decision_extension_working_days": Parameter(
        Text(
            "Gia hạn tối đa thời hạn quyết định kết nạp",
            "Longest extension of the admission decision's deadline",
        ),
        "working_days",
        "QĐ 294 §4.3.1",
    ),
    "ceremony_working_days": Parameter(
        Text(
            "Thời hạn tổ chức lễ kết nạp kể từ khi chi bộ nhận quyết định",
            "Time to hold the admission ceremony after the cell receives the decision",
        ),
        "working_days",
        "QĐ 294 §4.1",
    ),
    "theory_class_months": Parameter(
        Text(
            "Thời hạn học lớp bồi dưỡng lý luận chính trị cho đảng viên mới",
            "Time to attend the new-member theory class",
        ),
        "months",
        "HD 12-HD/BTCTW",
    ),
    "probation_months": Parameter(
        Text("Thời gian dự bị", "Probation"), "months", f"{CHARTER_VI}, Điều 5.1"
    ),
    "probation_papers_warn_days": Parameter(
        Text(
            "Nhắc bản tự kiểm điểm và nhận xét của người giúp đỡ trước khi hết dự bị",
            "Reminders for the self-review and helper's comment before probation ends",
        ),
        "days_before",
        f"{CHARTER_VI}, Điều 5",
    ),
    "confirmation_vote_working_days": Parameter(
        Text(
            "Thời hạn chi bộ xét công nhận đảng viên chính thức sau khi hết dự bị",
            "Time for the cell's confirmation vote after probation ends",
        ),
        "working_days",
        "QĐ 294 §4.2a",
    ),
    "confirmation_decision_working_days": Parameter(
        Text(
            "Thời hạn quyết định công nhận đảng viên chính thức",
            "Time for the confirmation decision",
        ),
        "working_days",
        "QĐ 294 §4.3.1",
    ),
    "confirmation_decision_extension_working_days": Parameter(
        Text(
            "Gia hạn tối đa thời hạn quyết định công nhận",
            "Longest extension of the confirmation decision's deadline",
        ),
        "working_days",
        "QĐ 294 §4.3.1",
    ),
    "confirm_vote_attempts": Parameter(
        Text(
            "Số lần chi bộ biểu quyết công nhận không đạt trước khi chuyển cấp có thẩm quyền",
            "Failed confirmation votes before the case goes to the competent authority",
        ),
        "votes",
        "QĐ 294 §4.2c",
    ),
    "escalate_after_days": Parameter(
        Text(
            "Số ngày quá hạn trước khi báo lên tổ chức cấp trên",
            "Days overdue before the organisation above is told",
        ),
        "days",
        "Ketnap (PROCESS.md)",
    ),
    "upcoming_warn_days": Parameter(
        Text("Nhắc trước các thời hạn khác", "Reminders before any other deadline"),
        "days_before",
        "Ketnap (PROCESS.md)",
    ),
}


def shown(value: Any) -> str:
    """A parameter's value as a page prints it: "90, 30" for a list of days."""
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class RuleBook:
    """Every configured set, oldest first; each in force from its `effective_from` until
    the next one's. An act before the first set's date is judged by the first set (no
    earlier text is configured): `earliest_applies_before` says so to the pages."""

    sets: tuple[RuleParameters, ...]

    def __post_init__(self) -> None:
        if not self.sets:
            raise ValueError("a rule book needs at least one set")
        days = [s.effective_from for s in self.sets]
        if any(later <= earlier for earlier, later in itertools.pairwise(days)):
            raise ValueError("rule sets must take effect on strictly increasing dates")

    def on(self, day: date) -> RuleParameters:
        """The set in force on `day`."""
        index = bisect.bisect_right([s.effective_from for s in self.sets], day) - 1
        return self.sets[max(index, 0)]

    def until(self, params: RuleParameters) -> date | None:
        """The last day `params` is in force (None: still in force)."""
        later = [s.effective_from for s in self.sets if s.effective_from > params.effective_from]
        return min(later) - timedelta(days=1) if later else None

    @property
    def earliest(self) -> RuleParameters:
        return self.sets[0]


RuleSource = RuleParameters | RuleBook | Callable[[date], RuleParameters]


def in_force(rules: RuleSource, day: date) -> RuleParameters:
    """The set in force on `day`: a book picks by date, a lone set is in force always,
    a function (an engine's `_params_on`) is asked."""
    if isinstance(rules, RuleParameters):
        return rules
    if isinstance(rules, RuleBook):
        return rules.on(day)
    return rules(day)


def book_of(rules: RuleParameters | RuleBook) -> RuleBook:
    return rules if isinstance(rules, RuleBook) else RuleBook((rules,))


def citation(params: RuleParameters, on: date) -> Text:
    """How a refusal names the text in force: "theo Quy định 294-QĐ/TW, hiệu lực từ
    01/07/2025" (and, for an act before that date, that no earlier text is configured)."""
    since = dmy(params.effective_from)
    if on < params.effective_from:
        return Text(
            f"theo {params.text_vi}, hiệu lực từ {since}; chưa cấu hình văn bản trước đó",
            f"under {params.text.en}, in force from {since}; no earlier text is configured",
        )
    return Text(
        f"theo {params.text_vi}, hiệu lực từ {since}",
        f"under {params.text.en}, in force from {since}",
    )


def number_fields() -> tuple[str, ...]:
    """The parameters' names as the dataclass declares them (the catalogue's check)."""
    return tuple(f.name for f in fields(RuleParameters) if f.name not in PROVENANCE)


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
    """Working days after `start` up to and including `end` — as `add_working_days`
    counts them: `working_days_between(d, add_working_days(d, n)) == n`."""
    if end <= start:
        return 0
    whole_years = sum(_working_days_of(year)[-1] for year in range(start.year, end.year))
    return whole_years + _working_days_to(end) - _working_days_to(start)


def _working_days_to(day: date) -> int:
    """Working days from 1 January of `day`'s year up to and including `day`."""
    return _working_days_of(day.year)[day.timetuple().tm_yday - 1]


@lru_cache(maxsize=256)  # a stay's length is asked per transition and per replayed act
def _working_days_of(year: int) -> tuple[int, ...]:
    """For each day of `year`, the working days of the year up to and including it."""
    counts: list[int] = []
    day, total = date(year, 1, 1), 0
    while day.year == year:
        total += is_working_day(day)
        counts.append(total)
        day += timedelta(days=1)
    return tuple(counts)


def describe(book: RuleBook, today: date) -> list[dict[str, Any]]:
    """Every set as the CLI's JSON, the page and the API show it, oldest first: its dates,
    its text, whether it is in force `today`, and each parameter with its label, unit,
    value and article."""
    current = book.on(today)
    described = []
    for params in book.sets:
        until = book.until(params)
        described.append(
            {
                "effective_from": params.effective_from.isoformat(),
                "until": until.isoformat() if until else None,
                "in_force": params is current,
                "earliest": params is book.earliest,
                "text": {"vi": params.text.vi, "en": params.text.en},
                "basis": {"vi": params.basis.vi, "en": params.basis.en},
                "parameters": [_parameter(params, name) for name in PARAMETERS],
            }
        )
    return described


def _parameter(params: RuleParameters, name: str) -> dict[str, Any]:
    spec = PARAMETERS[name]
    value = getattr(params, name)
    return {
        "name": name,
        "label": {"vi": spec.label.vi, "en": spec.label.en},
        "value": list(value) if isinstance(value, tuple) else value,
        "shown": shown(value),
        "unit": spec.unit,
        "unit_label": {"vi": UNITS[spec.unit].vi, "en": UNITS[spec.unit].en},
        "source": params.source_of(name),
    }
