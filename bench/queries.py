"""Read-side benchmarks over the generated data: the reminder sweep and the reports."""

from __future__ import annotations

import importlib
import time
from datetime import date, timedelta
from types import ModuleType

from sqlmodel import Session

from bench.figures import Figure, log, median
from workflow import db
from workflow.config import RuleParameters


def optional(module: str) -> ModuleType | None:
    """Another helper's module, when it exists yet."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def sweep(url: str, backend: str, today: date, cases: int, runs: int) -> list[Figure]:
    reminders = optional("workflow.reminders.due")
    if reminders is None or not hasattr(reminders, "sweep_query"):
        return [
            Figure(
                "reminder sweep query",
                backend,
                None,
                "s",
                goal="< 1 s",
                detail="workflow.reminders.due.sweep_query not available",
            )
        ]
    database = db.connect(url)
    params = RuleParameters()
    seconds, found = [], 0
    for _ in range(runs):
        with Session(database) as session:
            began = time.perf_counter()
            rows = reminders.sweep_query(session, today, params)
            seconds.append(time.perf_counter() - began)
            found = len(rows)
    database.dispose()
    value = median(seconds)
    log(f"  sweep {backend}: {value:.3f} s, {found} rows")
    return [
        Figure(
            "reminder sweep query",
            backend,
            value,
            "s",
            goal="< 1 s",
            met=value < 1,
            detail=f"{cases:,} cases; returns {found:,} deadlines to remind",
            runs=seconds,
        )
    ]


def reports(url: str, backend: str, today: date, cases: int, runs: int) -> list[Figure]:
    """Every report for the whole province: over the last year (the yearly report) and
    over the whole decade of data (the worst case: every case in the database)."""
    module = optional("workflow.reports.catalogue")
    if module is None or not hasattr(module, "compute"):
        return [
            Figure(
                "reports",
                backend,
                None,
                "s",
                goal="< 2 s each",
                detail="workflow.reports.catalogue.compute not available",
            )
        ]
    database = db.connect(url)
    periods = (("last 12 months", 365), ("ten years", 3652))
    figures = []
    for name in module.NAMES:
        for label, days in periods:
            start = today - timedelta(days=days)
            seconds = []
            for _ in range(runs):
                with Session(database) as session:
                    began = time.perf_counter()
                    module.compute(session, name, 1, start, today, as_of=today)
                    seconds.append(time.perf_counter() - began)
            value = median(seconds)
            log(f"  report {name} ({label}) {backend}: {value:.3f} s")
            figures.append(
                Figure(
                    f"report: {name}, {label}",
                    backend,
                    value,
                    "s",
                    goal="< 2 s",
                    met=value < 2,
                    detail=f"whole province ({cases:,} cases), {start:%Y-%m-%d}…{today:%Y-%m-%d}",
                    runs=seconds,
                )
            )
    database.dispose()
    return figures
