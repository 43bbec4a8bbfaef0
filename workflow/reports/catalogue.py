"""The reports the districts publish, by name, and `compute`, the one entry point that
answers any of them for an organisation's subtree and a period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from workflow.engine import NotFound
from workflow.models import Organisation
from workflow.reports.admissions import admissions
from workflow.reports.breakdown import breakdown
from workflow.reports.classes import classes
from workflow.reports.confirmations import confirmations
from workflow.reports.durations import step_durations
from workflow.reports.figures import PRECISIONS, restate
from workflow.reports.forecast import forecast
from workflow.reports.period import Period, period
from workflow.reports.pipeline import pipeline
from workflow.reports.scope import Subtree, subtree_of
from workflow.reports.villages import villages


@dataclass(frozen=True)
class Report:
    name: str
    title_vi: str
    title_en: str
    build: Callable[[Session, Subtree, Period], dict[str, Any]]

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_vi


REPORTS: tuple[Report, ...] = (
    Report(
        "admissions", "Kết nạp đảng viên so với chỉ tiêu", "Admissions against targets", admissions
    ),
    Report("breakdown", "Cơ cấu đảng viên mới", "New members' breakdown", breakdown),
    Report(
        "confirmations",
        "Công nhận đảng viên chính thức và xóa tên",
        "Confirmations and removals",
        confirmations,
    ),
    Report("classes", "Lớp bồi dưỡng và học viên", "Classes and attendees", classes),
    Report("pipeline", "Hồ sơ đang xử lý và quá hạn", "Pipeline and overdue cases", pipeline),
    Report(
        "villages",
        "Thôn chưa có đảng viên; trưởng, phó thôn là đảng viên",
        "Villages without a party member; heads and deputies who are members",
        villages,
    ),
    Report("step_durations", "Thời gian giải quyết từng bước", "Step durations", step_durations),
    Report(
        "forecast",
        "Dự báo kết nạp so với chỉ tiêu",
        "Admissions forecast against targets",
        forecast,
    ),
)
_BY_NAME = {r.name: r for r in REPORTS}
NAMES = tuple(_BY_NAME)


def report(name: str) -> Report | None:
    return _BY_NAME.get(name)


def catalogue(locale: str = "vi") -> list[dict[str, str]]:
    return [{"name": r.name, "title": r.title(locale)} for r in REPORTS]


def compute(
    session: Session,
    name: str,
    org_id: int,
    date_from: date,
    date_to: date,
    *,
    as_of: date | None = None,
    precision: int = 1,
) -> dict[str, Any]:
    """Report `name` for organisation `org_id`'s subtree over [date_from, date_to].

    `as_of` is the day deadlines are judged overdue (default: `date_to`; pass today so a
    period reaching into the future is judged as of today). Shares stay exact (a
    figures.Share: two decimals as numbers); their "text" prints `precision` decimals
    (1, or 2; a share under 1 % always gets two). No scope check here: callers acting
    for a user go through `scope.organisation_for` first.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    spec = report(name)
    if spec is None:
        raise NotFound(name)
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(org_id)
    span = period(date_from, date_to, as_of)
    result = spec.build(session, subtree_of(session, org), span)
    restate(result, precision)
    return {
        "name": spec.name,
        "title": spec.title_vi,
        "organisation": {"id": org.id, "name": org.name, "kind": org.kind},
        "from": span.start.isoformat(),
        "to": span.end.isoformat(),
        "precision": precision,
        **result,
    }
