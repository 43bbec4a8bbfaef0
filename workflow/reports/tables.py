"""The pieces every report's result is made of: tables as pages, CSV and XLSX show them,
shares of a whole, and monthly series with their running totals."""

from __future__ import annotations

from typing import Any

from workflow.reports.figures import percent, vi_percent
from workflow.reports.period import Period, month_iso, month_label


def table(title: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> dict[str, Any]:
    """A table as pages, CSV and XLSX show it; column types: text, int, percent, date (ISO)."""
    return {
        "title": title,
        "columns": [{"label": label, "type": kind} for label, kind in columns],
        "rows": rows,
    }


def share(count: int, whole: int) -> dict[str, Any]:
    """A count, the whole it is a share of, the exact share (figures.Share: two decimals
    as a number) and its text (one decimal, two under 1 %; `compute` restates it)."""
    return {
        "count": count,
        "whole": whole,
        "percent": percent(count, whole),
        "text": vi_percent(count, whole),
    }


def monthly(period: Period, series: dict[str, dict[int, int]]) -> list[dict[str, Any]]:
    """One row per month of the period, each series with its count and running total."""
    running = dict.fromkeys(series, 0)
    rows = []
    for key in period.months:
        row: dict[str, Any] = {"month": month_iso(key), "label": month_label(key)}
        for name, counts in series.items():
            running[name] += counts.get(key, 0)
            row[name] = counts.get(key, 0)
            row[f"{name}_cumulative"] = running[name]
        rows.append(row)
    return rows
