"""Report 1, admissions against targets: ceremonies held in the period, per year, month
and unit below, against every applicable year, resolution and congress-term target.

The period filters the flows the report shows; a target is always measured over its own
period — a year's target against that year's admissions, a resolution's or a congress
term's from its start, cumulative — up to the report's last day (or the target's own
end). Each target row says which days it counted (`counted_from`, `counted_to`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from workflow.directory import targets
from workflow.models import AdmissionTarget, Case, Organisation
from workflow.reports.figures import NO_FIGURE, percent, vi_percent
from workflow.reports.period import FIRST_DAY, LAST_DAY, Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import (
    Tally,
    admitted_by_path,
    ceremonies,
    ceremony_tally,
    split,
    tallied,
    units_of,
)
from workflow.reports.tables import monthly, table


def admissions(
    session: Session, org: Subtree, period: Period, *, tallies: bool = True
) -> dict[str, Any]:
    """The report; `tallies=False` counts every ceremony from "case" (the tally's whole
    months give the same figures: tests/reports/test_tallies.py)."""
    units = units_of(session, org)
    admitted = ceremonies(session, org, period, units, tallies=tallies)
    applicable = targets.applicable(
        session, [org.id, *(u.id for u in units if u.id is not None)], period.start, period.end
    )
    windows = TargetWindows(session, org, period, [u.path for u in units], tallies=tallies)
    target_rows = _target_rows(applicable[org.id], windows, org.path, period)
    by_year = admitted.by_year()
    years = [
        {
            "year": year,
            "admitted": by_year.get(year, 0),
            "months": _months_of_year_in(period, year),
            "first_month": max(period.start, date(year, 1, 1)).month,
            "last_month": min(period.end, date(year, 12, 31)).month,
        }
        for year in range(period.start.year, period.end.year + 1)
    ]
    unit_rows = _unit_rows(admitted, units, applicable, windows, period)
    result = {
        "admitted": admitted.total,
        "targets": target_rows,
        "by_year": years,
        "by_month": monthly(period, {"admitted": admitted.by_month()}),
        "by_unit": unit_rows,
    }
    result["tables"] = _admission_tables(result)
    return result


def _months_of_year_in(period: Period, year: int) -> int:
    first = max(period.start, date(year, 1, 1))
    last = min(period.end, date(year, 12, 31))
    return last.month - first.month + 1


class TargetWindows:
    """Admissions of the subtree counted over a target's own days, for the subtree and
    each unit: per distinct window (a year, or a resolution's span) one count per path,
    shared by the subtree's row and every unit's. The windows' whole months come from the
    ceremony tally (each path's months, read once for all windows), the days of the
    months a window cuts from "case"; without tallies, every day from "case"."""

    def __init__(
        self,
        session: Session,
        org: Subtree,
        period: Period,
        unit_paths: list[str],
        *,
        tallies: bool = True,
    ) -> None:
        self.session, self.org, self.period = session, org, period
        self.paths, self.tallies = [org.path, *unit_paths], tallies
        self._counts: dict[tuple[date, date], dict[str, int]] = {}
        self._months: dict[str, dict[int, int]] | None = None

    def span(self, start: date, end: date) -> tuple[date, date]:
        """The days a target of [start, end] is measured over in this report."""
        return start, min(end, self.period.end)

    def admitted(self, start: date, end: date, path: str) -> int:
        first, last = self.span(start, end)
        if last < first:
            return 0
        if (first, last) not in self._counts:
            self._counts[first, last] = self._count(Period(first, last, last))
        counts = self._counts[first, last]
        if path not in counts:  # not the subtree nor one of its units: from "case"
            counts[path] = _below(self._by_path(Period(first, last, last)), path)
        return counts[path]

    def _by_path(self, window: Period) -> dict[str, int]:
        return admitted_by_path(self.session, self.org, window, Case.ceremony_on)

    def _count(self, window: Period) -> dict[str, int]:
        parts = split(window)
        if not self.tallies or not tallied(*self.paths) or parts.whole is None:
            by_path = self._by_path(window)
            return {path: _below(by_path, path) for path in self.paths}
        if self._months is None:
            every = (_key(FIRST_DAY), _key(LAST_DAY))
            found = ceremony_tally(self.session, self.paths, every)
            self._months = {path: found.subtree(path) for path in self.paths}
        first, last = parts.months
        edges = [self._by_path(edge) for edge in parts.edges]
        return {
            path: sum(n for month, n in self._months[path].items() if first <= month <= last)
            + sum(_below(edge, path) for edge in edges)
            for path in self.paths
        }


def _key(day: date) -> int:
    return day.year * 12 + day.month - 1


def _below(by_path: dict[str, int], path: str) -> int:
    return sum(n for cell, n in by_path.items() if cell.startswith(path))


def _target_rows(
    applicable: list[AdmissionTarget], windows: TargetWindows, path: str, period: Period
) -> list[dict[str, Any]]:
    """One row per year of the period and per resolution/term target; "—" where none.

    A year's target is set against that year's admissions; a resolution's or a term's
    against the admissions since its start ("từ đầu nhiệm kỳ … kết nạp 625, đạt 56,8% so
    với mục tiêu Nghị quyết"), whatever the report's own first day.
    """
    year_targets = {t.period_start.year: t for t in applicable if t.kind == "year"}
    rows = []
    for year in range(period.start.year, period.end.year + 1):
        target = year_targets.get(year)
        start, end = (
            (target.period_start, target.period_end)
            if target
            else (date(year, 1, 1), date(year, 12, 31))
        )
        row = _target_row("year", target, windows, path, (start, end), f"năm {year}")
        rows.append(row | {"year": year})
    for kind in ("resolution", "congress_term"):
        of_kind = [t for t in applicable if t.kind == kind]
        default_ref = targets.kind(kind).default_ref_vi
        rows += [
            _target_row(
                kind, t, windows, path, (t.period_start, t.period_end), t.ref or default_ref
            )
            for t in of_kind
        ]
        if not of_kind:
            days = (period.start, period.end)
            rows.append(_target_row(kind, None, windows, path, days, default_ref))
    return rows


def _target_row(
    kind: str,
    target: AdmissionTarget | None,
    windows: TargetWindows,
    path: str,
    days: tuple[date, date],
    label: str,
) -> dict[str, Any]:
    number = target.number if target else None
    counted_from, counted_to = windows.span(*days)
    admitted = windows.admitted(*days, path)
    return {
        "kind": kind,
        "kind_label": targets.kind(kind).label_vi,
        "label": label,
        "title": f"Chỉ tiêu {label}"
        if kind == "year"
        else f"{targets.kind(kind).label_vi} ({label})",
        "ref": target.ref if target else "",
        "period_start": target.period_start.isoformat() if target else None,
        "period_end": target.period_end.isoformat() if target else None,
        "counted_from": counted_from.isoformat(),
        "counted_to": counted_to.isoformat(),
        "number": number,
        "admitted": admitted,
        "percent": percent(admitted, number),
        "text": vi_percent(admitted, number),
    }


def _unit_rows(
    counted: Tally,
    units: list[Organisation],
    applicable: dict[int, list[AdmissionTarget]],
    windows: TargetWindows,
    period: Period,
) -> list[dict[str, Any]]:
    per_unit = counted.units_by_year()
    counts = {unit: sum(years.values()) for unit, years in per_unit.items()}
    rows = []
    for unit in units:
        assert unit.id is not None
        admitted = counts.get(unit.id, 0)
        unit_targets = [
            row
            for row in _target_rows(applicable[unit.id], windows, unit.path, period)
            if row["number"] is not None
        ]
        rows.append(
            {
                "organisation_id": unit.id,
                "name": unit.name,
                "admitted": admitted,
                "share": percent(admitted, counted.total),
                "targets": unit_targets,
            }
        )
    if counts.get(None):
        rows.append(
            {
                "organisation_id": None,
                "name": "Trực thuộc trực tiếp",
                "admitted": counts[None],
                "share": percent(counts[None], counted.total),
                "targets": [],
            }
        )
    return rows


def _admission_tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    target_table = table(
        "Kết nạp so với chỉ tiêu",
        [
            ("Chỉ tiêu", "text"),
            ("Tính từ", "date"),
            ("Đến", "date"),
            ("Số chỉ tiêu", "int"),
            ("Đã kết nạp", "int"),
            ("Đạt", "percent"),
        ],
        [
            [
                row["title"],
                row["counted_from"],
                row["counted_to"],
                row["number"],
                row["admitted"],
                row["percent"],
            ]
            for row in result["targets"]
        ],
    )
    year_table = table(
        "Theo năm",
        [("Năm", "text"), ("Số tháng", "int"), ("Kết nạp", "int")],
        [[str(y["year"]), y["months"], y["admitted"]] for y in result["by_year"]],
    )
    month_table = table(
        "Theo tháng",
        [("Tháng", "text"), ("Kết nạp", "int"), ("Lũy kế", "int")],
        [[m["label"], m["admitted"], m["admitted_cumulative"]] for m in result["by_month"]],
    )
    unit_table = table(
        "Theo đơn vị trực thuộc",
        [("Đơn vị", "text"), ("Kết nạp", "int"), ("Tỷ lệ", "percent"), ("Chỉ tiêu", "text")],
        [
            [
                u["name"],
                u["admitted"],
                u["share"],
                "; ".join(f"{t['label']}: {t['number']} ({t['text']})" for t in u["targets"])
                or NO_FIGURE,
            ]
            for u in result["by_unit"]
        ],
    )
    return [target_table, year_table, month_table, unit_table]
