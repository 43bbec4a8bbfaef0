"""What synchronous=FULL costs against NORMAL on this machine, measured side by side.

    python -m bench.durability [--rounds 7] [--cases 30] [--workdir DIR]

Two copies of one demo database on the same disk (not tmpfs: --workdir must be where
the real database would live). Each round, both copies nominate the same number of
fresh cases and walk them along the procedure (demo.PATH, 15 real `engine.advance`
calls each); the order alternates between rounds (NORMAL first, then FULL first) so
neither always meets a warm or a busy disk. Reported per level: median advances per
second, wall and CPU milliseconds per advance (time.process_time: what the fsync
does not cost the processor), and plain sqlite3 commits per second of a one-row
INSERT — the fsync alone. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from bench.advance import nominate_many, path_start
from bench.figures import log
from workflow import db
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.db import Synchronous
from workflow.engine import Engine
from workflow.ops import demo

TODAY = date(2026, 3, 16)
LEVELS: tuple[Synchronous, ...] = ("NORMAL", "FULL")


def template(folder: Path) -> tuple[Path, demo.World]:
    path = folder / "template.db"
    engine = Engine(db.connect(f"sqlite:///{path}"), RuleParameters(), FixedClock.on(TODAY))
    db.migrate(engine.database)
    world = demo.populate(engine)
    engine.database.dispose()  # folds the WAL into the file
    return path, world


def walk(engine: Engine, world: demo.World, cases: int, seed: int) -> tuple[int, float, float]:
    """Nominate `cases` (not timed) and walk them along PATH: (advances, wall s, CPU s)."""
    start = path_start(TODAY)
    batch = nominate_many(engine, world, cases, start, seed)
    actors = {
        "secretary": world.secretary,
        "committee": world.committee_officer,
        "authority": world.authority_officer,
    }
    wall, cpu, advances = 0.0, 0.0, 0
    on = start
    for step in demo.PATH:
        on = on.fromordinal(on.toordinal() + step.after_days)
        moved = []
        for case_id, cell, version in batch:
            data = step.data(world, cell, on)
            actor = actors[step.actor][cell]
            began_wall, began_cpu = time.perf_counter(), time.process_time()
            engine.advance(case_id, step.event, data, actor, version, on=on.isoformat())
            wall += time.perf_counter() - began_wall
            cpu += time.process_time() - began_cpu
            advances += 1
            moved.append((case_id, cell, version + 1))
        batch = moved
    return advances, wall, cpu


def raw_commits(path: Path, level: str, count: int) -> tuple[float, float]:
    """Plain sqlite3: `count` one-row INSERT transactions; (commits/s, CPU ms each)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={level}")
    connection.execute("CREATE TABLE IF NOT EXISTS bench_commit (n INTEGER)")
    began_wall, began_cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO bench_commit VALUES (?)", (n,))
        connection.execute("COMMIT")
    wall, cpu = time.perf_counter() - began_wall, time.process_time() - began_cpu
    connection.close()
    return count / wall, cpu / count * 1000


def measure(folder: Path, rounds: int, cases: int, commits: int) -> dict[str, dict[str, list]]:
    source, world = template(folder)
    engines = {}
    for level in LEVELS:
        copy = folder / f"{level.lower()}.db"
        shutil.copyfile(source, copy)
        database = db.connect(f"sqlite:///{copy}", synchronous=level)
        engines[level] = Engine(database, RuleParameters(), FixedClock.on(TODAY))
    results: dict[str, dict[str, list]] = {level: defaultdict(list) for level in LEVELS}
    for run in range(rounds):
        order = LEVELS if run % 2 == 0 else tuple(reversed(LEVELS))
        for level in order:
            advances, wall, cpu = walk(engines[level], world, cases, seed=100 + run)
            raw_rate, raw_cpu = raw_commits(folder / f"raw-{level.lower()}.db", level, commits)
            figures = results[level]
            figures["advances/s"].append(advances / wall)
            figures["wall ms"].append(wall / advances * 1000)
            figures["cpu ms"].append(cpu / advances * 1000)
            figures["raw commits/s"].append(raw_rate)
            figures["raw cpu ms"].append(raw_cpu)
        log(
            f"round {run + 1}: "
            + ", ".join(f"{lv} {results[lv]['advances/s'][-1]:,.0f} advances/s" for lv in order)
        )
    for engine in engines.values():
        engine.database.dispose()
    return results


def table(results: dict[str, dict[str, list]], rounds: int, cases: int) -> str:
    median = {lv: {k: statistics.median(v) for k, v in f.items()} for lv, f in results.items()}
    normal, full = median["NORMAL"], median["FULL"]
    rows = [
        ("engine.advance, advances/s", "advances/s", "{:,.0f}"),
        ("wall time per advance, ms", "wall ms", "{:.2f}"),
        ("CPU time per advance, ms", "cpu ms", "{:.2f}"),
        ("sqlite3 one-row commits/s", "raw commits/s", "{:,.0f}"),
        ("CPU time per sqlite3 commit, ms", "raw cpu ms", "{:.3f}"),
    ]
    lines = [
        f"{rounds} alternating rounds × {cases} cases × {len(demo.PATH)} steps per level; "
        "medians (every round in brackets)",
        "",
        "| | NORMAL | FULL | FULL / NORMAL |",
        "|---|---|---|---|",
    ]
    for label, key, shape in rows:
        shown = {
            level: f"{shape.format(median[level][key])} "
            f"[{' '.join(shape.format(v) for v in results[level][key])}]"
            for level in LEVELS
        }
        lines.append(
            f"| {label} | {shown['NORMAL']} | {shown['FULL']} | {full[key] / normal[key]:.3g} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cases", type=int, default=30, help="cases walked per round")
    parser.add_argument("--commits", type=int, default=300, help="raw commits per round")
    parser.add_argument("--workdir", type=Path, default=None, help="on the database's disk")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ketnap-durability-", dir=args.workdir))
    try:
        log(f"measuring in {folder}")
        results = measure(folder, args.rounds, args.cases, args.commits)
        print(table(results, args.rounds, args.cases))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
