"""Report 1, admissions against targets: ceremonies held in the period, per year, month
and unit below, against every applicable year, resolution and congress-term target."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from workflow.directory import targets
from workflow.models import AdmissionTarget, Case, Organisation
from workflow.reports.figures import NO_FIGURE, percent, vi_percent
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import Tally, tally, units_of
from workflow.reports.tables import monthly, table


def admissions(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    admitted = tally(session, org, period, Case.ceremony_on)
    units = units_of(session, org)
    applicable = targets.applicable(
        session, [org.id, *(u.id for u in units if u.id is not None)], period.start, period.end
    )
    target_rows = _target_rows(applicable[org.id], admitted.total, admitted.by_year(), period)
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
    unit_rows = _unit_rows(admitted, units, applicable, period)
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


def _target_rows(
    applicable: list[AdmissionTarget], total: int, by_year: dict[int, int], period: Period
) -> list[dict[str, Any]]:
    """One row per year of the period and per resolution/term target; "—" where none.

    A year's target is set against that year's admissions; a resolution's or a term's
    against the whole period's, as the articles do ("từ đầu nhiệm kỳ … kết nạp 625,
    đạt 56,8% so với mục tiêu Nghị quyết").
    """
    year_targets = {t.period_start.year: t for t in applicable if t.kind == "year"}
    rows = [
        _target_row("year", year_targets.get(year), by_year.get(year, 0), f"năm {year}")
        | {"year": year}
        for year in range(period.start.year, period.end.year + 1)
    ]
    for kind in ("resolution", "congress_term"):
        of_kind = [t for t in applicable if t.kind == kind]
        rows += [
            _target_row(kind, t, total, t.ref or targets.kind(kind).default_ref_vi) for t in of_kind
        ]
        if not of_kind:
            rows.append(_target_row(kind, None, total, targets.kind(kind).default_ref_vi))
    return rows


def _target_row(
    kind: str, target: AdmissionTarget | None, admitted: int, label: str
) -> dict[str, Any]:
    number = target.number if target else None
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
        "number": number,
        "admitted": admitted,
        "percent": percent(admitted, number),
        "text": vi_percent(admitted, number),
    }


def _unit_rows(
    counted: Tally,
    units: list[Organisation],
    applicable: dict[int, list[AdmissionTarget]],
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
            for row in _target_rows(applicable[unit.id], admitted, per_unit[unit.id], period)
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
        [("Chỉ tiêu", "text"), ("Số chỉ tiêu", "int"), ("Đã kết nạp", "int"), ("Đạt", "percent")],
        [
            [
                row["title"],
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
