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


# ── the pages' SQL, before and after issue 13 (python -m bench.queries URL) ─────────
# The statements the province officer's pages sent before (as they were) and send now,
# timed alternately on one connection: the database's share of a page, apart from the
# web server's queueing. Medians of `runs` runs, milliseconds.
_SCOPE = "c.org_path LIKE '/1/%%'"
_OPEN = (
    "('"
    + "','".join(
        (
            "nominated",
            "in_class",
            "class_passed",
            "sponsored",
            "dossier_complete",
            "verified",
            "cell_resolved",
            "committee_resolved",
            "admission_decided",
            "probationary",
            "confirmation_cell_resolved",
            "confirmation_committee_resolved",
        )
    )
    + "')"
)
PAGE_SQL: dict[str, tuple[str, str]] = {
    "dashboard: cases per state": (
        f'SELECT c.state, count(*) FROM "case" c WHERE {_SCOPE} GROUP BY c.state',
        "SELECT state, sum(n) FROM case_tally WHERE org_path LIKE '/1/%%' GROUP BY state",
    ),
    "dashboard: first 6 cases of each open state": (
        "SELECT * FROM (SELECT c.id, c.state, row_number() OVER (PARTITION BY c.state "
        'ORDER BY c.next_due IS NULL, c.next_due, c.id) AS rank FROM "case" c '
        f"JOIN person p ON p.id = c.person_id WHERE {_SCOPE} AND c.open) r WHERE rank <= 6",
        " UNION ALL ".join(
            f"(SELECT c.id FROM \"case\" c WHERE c.state = '{s}' AND {_SCOPE} AND "
            f"c.next_due IS {n} NULL ORDER BY c.next_due, c.id LIMIT 6)"
            for s in _OPEN.strip("()").replace("'", "").split(",")
            for n in ("NOT", "")
        ),
    ),
    "dashboard: 60 most urgent deadlines": (
        'SELECT d.* FROM casedeadline d JOIN "case" c ON c.id = d.case_id '
        f"WHERE {_SCOPE} AND d.due <= %(horizon)s ORDER BY d.due, d.case_id LIMIT 60",
        "SELECT d.* FROM casedeadline d WHERE d.due <= %(horizon)s AND d.case_id IN "
        f'(SELECT c.id FROM "case" c WHERE {_SCOPE} AND c.next_due <= %(horizon)s '
        "ORDER BY c.next_due, c.id LIMIT 60) ORDER BY d.due, d.case_id LIMIT 60",
    ),
    "case list: a page of overdue cases (5th by OFFSET, by cursor)": (
        f'SELECT c.* FROM "case" c WHERE {_SCOPE} AND c.next_due < %(today)s '
        "ORDER BY c.next_due IS NULL, c.next_due, c.id LIMIT 25 OFFSET 100",
        f'SELECT c.* FROM "case" c WHERE {_SCOPE} AND c.next_due < %(today)s '
        "AND (c.next_due, c.id) > (%(today)s - 900, 1) ORDER BY c.next_due, c.id LIMIT 26",
    ),
    "case list: count of the open cases": (
        f'SELECT count(*) FROM "case" c WHERE {_SCOPE} AND c.open',
        f'SELECT count(*) FROM (SELECT c.id FROM "case" c WHERE {_SCOPE} AND c.open '
        "LIMIT 1001) capped",
    ),
}


def page_sql(url: str, today: date, runs: int = 5) -> list[tuple[str, float, float]]:
    """(statement, ms before, ms after) for each of PAGE_SQL, on PostgreSQL."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    connection = psycopg.connect(
        dbname=parsed.database,
        user=parsed.username,
        host=parsed.query.get("host") or parsed.host,  # type: ignore[arg-type]
        port=parsed.port,
    )
    values = {"today": today, "horizon": today + timedelta(days=30)}
    found = []
    with connection:
        for name, (before, after) in PAGE_SQL.items():
            timings: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(runs):
                for label, sql in (("before", before), ("after", after)):
                    began = time.perf_counter()
                    connection.execute(sql, values).fetchall()
                    timings[label].append((time.perf_counter() - began) * 1000)
            found.append((name, median(timings["before"]), median(timings["after"])))
            log(f"  {name}: {found[-1][1]:.1f} ms → {found[-1][2]:.1f} ms")
    return found


if __name__ == "__main__":
    import sys

    from bench import postgres as pg

    pg.use_workdir(__import__("pathlib").Path(sys.argv[1]))
    day = date.fromisoformat(sys.argv[2])
    for row in page_sql(pg.database_url("ketnap_bench_1000000"), day, int(sys.argv[3])):
        print(f"| {row[0]} | {row[1]:,.1f} ms | {row[2]:,.1f} ms |")
