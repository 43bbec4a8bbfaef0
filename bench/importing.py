"""Import throughput: `workflow.exchange.run.import_file` of official members with their
whole history (goal ≥ 1,000 cases/s), on SQLite and PostgreSQL.

A CSV of historical cases — admitted and confirmed years ago, every step dated, as a
district would transcribe its paper files — imported by an admin into a fresh
database with the demo tree. Each chunk of accepted rows is replayed by the engine's
bulk replay (`Engine.replay`: nominate + 15 acts per case, in memory, written in
batches: executemany on SQLite, COPY on PostgreSQL). Reported per import: cases per
second of wall time and per CPU-second of this process (on PostgreSQL the server's
own CPU is not in it).

Standalone, with a before/after comparison of two source trees in one sitting:

    python bench/importing.py --rows 1859 --rounds 3 --trees /work/main,.

runs, round after round, each tree's import in a subprocess (PYTHONPATH = the tree),
alternating which goes first, on SQLite and on one private PostgreSQL server (never a
server of --workdir), and prints the medians.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DISTRICT = 1_859  # a district's historical members (issue 13: took 130 s one by one)
DATABASES = ("sqlite", "postgresql")


def case_row(n: int, cell: int, officials: list[int], committee: bool, today: date) -> dict:
    """An official member's whole history, nominated 2–8 years before `today`."""
    from workflow.ops import demo

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


@dataclass
class Sample:
    """One import: cases written, wall seconds, CPU seconds of this process."""

    database: str
    written: int
    rejected: int
    seconds: float
    cpu: float
    server_cpu: float | None = None  # PostgreSQL: its processes' CPU meanwhile

    @property
    def per_second(self) -> float:
        return self.written / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.written / self.cpu

    @property
    def per_total_cpu_second(self) -> float | None:
        """Per CPU-second of the importer and the database server together."""
        return None if self.server_cpu is None else self.written / (self.cpu + self.server_cpu)


def _server_processes(url: str) -> Any:
    """The PostgreSQL server's processes, when it runs on this machine from a data
    directory that holds its socket (the private server): its postmaster and children."""
    import psutil
    from sqlalchemy.engine import make_url

    host = make_url(url).query.get("host")
    pid_file = Path(str(host or ""), "postmaster.pid")
    if not host or not pid_file.exists():
        return None
    return psutil.Process(int(pid_file.read_text().split()[0]))


def _server_cpu(postmaster: Any) -> dict[int, float]:
    """CPU seconds so far of each server process (the postmaster's counting the
    children it has reaped)."""
    times = postmaster.cpu_times()
    found = {
        postmaster.pid: times.user + times.system + times.children_user + times.children_system
    }
    for child in postmaster.children():
        try:
            child_times = child.cpu_times()
        except Exception:  # ended meanwhile: the postmaster counts it
            continue
        found[child.pid] = child_times.user + child_times.system
    return found


def measure(database: str, url: str, workdir: Path, rows: int, seed: int, today: date) -> Sample:
    """Import `rows` official members into the fresh database at `url` (the demo tree
    built first, outside the timing)."""
    from workflow import db
    from workflow.access import Actor
    from workflow.clock import FixedClock
    from workflow.config import RuleParameters
    from workflow.engine import Engine
    from workflow.exchange import layouts
    from workflow.exchange import run as importer
    from workflow.ops import demo

    database_ = db.connect(url)
    db.migrate(database_)
    engine = Engine(database_, RuleParameters(), FixedClock.on(today))
    with engine.session() as session:
        world = demo.build_world(session, random.Random(seed))
    # Cells 0–2 belong to a committee that may admit; 3–4 to one whose committee votes.
    data = [
        case_row(
            seed * rows + n,
            world.cell_ids[n % 5],
            world.officials[world.cell_ids[n % 5]],
            n % 5 >= 3,
            today,
        )
        for n in range(rows)
    ]
    csv_path = workdir / f"import-{database}-{seed}.csv"
    write_file(csv_path, layouts.columns("cases"), data)
    admin = Actor("admin", "admin", None, "")
    postmaster = _server_processes(url) if database == "postgresql" else None
    server_before = _server_cpu(postmaster) if postmaster is not None else {}
    began, cpu = time.perf_counter(), time.process_time()
    report = importer.import_file(engine, csv_path, admin, kind="cases")
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    server_cpu = None
    if postmaster is not None:
        after = _server_cpu(postmaster)
        server_cpu = sum(t - server_before.get(pid, 0.0) for pid, t in after.items())
    engine.database.dispose()
    csv_path.unlink()
    return Sample(database, report.written, report.rejected, seconds, cpu, server_cpu)


def _fresh(database: str, workdir: Path, name: str) -> str:
    if database == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from bench import postgres

    return postgres.create_database(name)


def run(
    workdir: Path, today: date, rows: int, runs: int, databases: tuple[str, ...] = DATABASES
) -> list[Any]:
    """The harness's figures: import throughput per database (median of `runs`)."""
    from bench.figures import Figure, log, median

    figures = []
    for database in databases:
        samples = []
        for number in range(runs):
            url = _fresh(database, workdir, f"ketnap_bench_import_{number}")
            sample = measure(database, url, workdir, rows, number, today)
            if sample.rejected:
                log(f"  import ({database}): {sample.rejected} rows rejected")
            log(
                f"  import run {number + 1} ({database}): {sample.written} cases in "
                f"{sample.seconds:.1f} s, {sample.cpu:.1f} s CPU"
            )
            samples.append(sample)
        rates = [s.per_second for s in samples]
        value = median(rates)
        per_cpu = median([s.per_cpu_second for s in samples])
        figures.append(
            Figure(
                "import throughput (cases replayed by Engine.replay)",
                database,
                value,
                "cases/s",
                goal="≥ 1,000 cases/s",
                met=value >= 1000,
                detail=f"{rows:,}-row CSV of official members (16 history rows each); "
                f"{samples[-1].written:,} written in the last run; "
                f"{per_cpu:,.0f} cases per CPU-second of the importing process",
                runs=rates,
            )
        )
    return figures


# ── standalone: one tree against another, alternating ─────────────────────
def _one(args: argparse.Namespace) -> None:
    """Child process: one import with the tree on PYTHONPATH; prints its Sample."""
    workdir = Path(args.workdir)
    url = args.url or _fresh("sqlite", workdir, f"import-{os.getpid()}")
    sample = measure(args.one, url, workdir, args.rows, args.seed, date.fromisoformat(args.today))
    print(json.dumps(asdict(sample)))


def _child(tree: Path, database: str, url: str, args: argparse.Namespace, seed: int) -> Sample:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        database,
        "--rows",
        str(args.rows),
        "--seed",
        str(seed),
        "--today",
        args.today,
        "--workdir",
        str(args.workdir),
    ]
    if url:
        command += ["--url", url]
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree} ({database}) failed:\n{done.stderr[-3000:]}")
    return Sample(**json.loads(done.stdout.strip().splitlines()[-1]))


def _compare(args: argparse.Namespace) -> None:
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    databases = args.databases.split(",")
    if "postgresql" in databases:
        os.environ.pop("KETNAP_BENCH_DATABASE_URL", None)  # a private server, always
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bench import postgres

        postgres.use_workdir(None)
        postgres.server_url()  # started once: every child uses it
    samples: dict[tuple[str, str], list[Sample]] = {}
    for round_ in range(args.rounds):
        order = trees if round_ % 2 == 0 else trees[::-1]
        for database in databases:
            for tree in order:
                url = ""
                if database == "postgresql":
                    url = postgres.create_database(f"ketnap_import_ab_{round_}")
                sample = _child(tree, database, url, args, round_)
                if database == "postgresql":
                    postgres.drop_database(url)
                samples.setdefault((str(tree), database), []).append(sample)
                print(
                    f"[{time.strftime('%H:%M:%S')}] round {round_ + 1} {database:10} {tree}: "
                    f"{sample.written} cases ({sample.rejected} rejected), "
                    f"{sample.per_second:,.0f}/s wall, {sample.per_cpu_second:,.0f}/CPU-s"
                    + (
                        f" ({sample.per_total_cpu_second:,.0f}/CPU-s with the server's)"
                        if sample.per_total_cpu_second
                        else ""
                    ),
                    flush=True,
                )
    print(f"load: {os.getloadavg()}")
    for (tree, database), found in samples.items():
        wall = [s.per_second for s in found]
        cpu = [s.per_cpu_second for s in found]
        print(
            f"{database:10} {tree}: median {statistics.median(wall):,.0f} cases/s wall "
            f"{[round(w) for w in wall]}, {statistics.median(cpu):,.0f} per CPU-second "
            f"{[round(c) for c in cpu]}"
        )
        total = [t for s in found if (t := s.per_total_cpu_second)]
        if total:
            print(
                f"{'':10} {tree}: with the server's CPU, median "
                f"{statistics.median(total):,.0f} per CPU-second {[round(t) for t in total]}"
            )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DISTRICT)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trees", default=".", help="source trees, comma-separated")
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--today", default="2026-11-30")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.workdir:
        args.workdir = tempfile.mkdtemp(prefix="ketnap-import-")
    if args.one:
        _one(args)
    else:
        _compare(args)


if __name__ == "__main__":
    main(sys.argv[1:])
