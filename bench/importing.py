"""Import throughput: `workflow.exchange.run.import_file` on SQLite (goal ≥ 1,000 cases/s).

A CSV of historical cases — admitted and confirmed years ago, every step dated, as a
district would transcribe its paper files — imported by an admin into a fresh
database with the demo tree. Each chunk of accepted rows is replayed by the engine's
bulk replay (`Engine.replay`: nominate + 15 acts per case, in memory, written in
batches), so the figure is bounded by the Python work of the acts themselves.
"""

from __future__ import annotations

import csv
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.figures import Figure, log, median
from bench.queries import optional
from workflow import db
from workflow.access import Actor
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.engine import Engine
from workflow.ops import demo


def case_row(n: int, cell: int, officials: list[int], committee: bool, today: date) -> dict:
    """An official member's whole history, nominated 2–8 years before `today`."""
    rng = random.Random(n)
    start = today - timedelta(days=800 + rng.randrange(6 * 365))
    name = f"{demo.vietnamese_name(rng, 'female' if n % 2 else 'male')} {n}"
    return demo.import_row(
        n,
        cell,
        officials,
        start,
        committee=committee,
        full_name=name,
        occupation=rng.choice(demo.OCCUPATIONS),
        village=rng.choice(demo.VILLAGES),
    )


def write_file(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])


def run(workdir: Path, today: date, rows: int, runs: int) -> list[Figure]:
    importer = optional("workflow.exchange.run")
    layouts = optional("workflow.exchange.layouts")
    if importer is None or layouts is None or not hasattr(importer, "import_file"):
        return [
            Figure(
                "import throughput",
                "sqlite",
                None,
                "cases/s",
                goal="≥ 1,000 cases/s",
                detail="workflow.exchange.run.import_file not available yet",
            )
        ]
    rates, written = [], 0
    for run_number in range(runs):
        path = workdir / f"import-{run_number}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database = db.connect(f"sqlite:///{path}")
        db.migrate(database)
        engine = Engine(database, RuleParameters(), FixedClock.on(today))
        with engine.session() as session:
            world = demo.build_world(session, random.Random(run_number))
        # Cells 0–2 belong to a committee that may admit; 3–4 to one whose committee votes.
        data = [
            case_row(
                run_number * rows + n,
                world.cell_ids[n % 5],
                world.officials[world.cell_ids[n % 5]],
                n % 5 >= 3,
                today,
            )
            for n in range(rows)
        ]
        csv_path = workdir / f"import-{run_number}.csv"
        write_file(csv_path, layouts.columns("cases"), data)
        admin = Actor("admin", "admin", None, "")
        began = time.perf_counter()
        report = importer.import_file(engine, csv_path, admin, kind="cases")
        seconds = time.perf_counter() - began
        engine.database.dispose()
        if report.rejected:
            first = report.errors[0].as_dict("en") if report.errors else {}
            log(f"  import: {report.rejected} rows rejected, e.g. {first}")
        written = report.written
        rates.append(report.written / seconds)
        log(f"  import run {run_number + 1}: {report.written} cases in {seconds:.1f} s")
        csv_path.unlink()
    value = median(rates)
    return [
        Figure(
            "import throughput (cases replayed by Engine.replay)",
            "sqlite",
            value,
            "cases/s",
            goal="≥ 1,000 cases/s",
            met=value >= 1000,
            detail=f"{rows:,}-row CSV of official members (16 history rows each); "
            f"{written:,} written in the last run",
            runs=rates,
        )
    ]
