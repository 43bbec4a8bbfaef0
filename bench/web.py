"""Web benchmarks: gunicorn (2 workers, deploy/gunicorn.conf.py) on PostgreSQL, driven
from a second process on 127.0.0.1 — wrk when installed (with a Lua script for the
bearer header and the latency percentiles), else bench.loadclient — for a bounded time.
Then the memory of the workers after 1,000 and 10,000 requests.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from bench.figures import Figure, log, median
from workflow import process

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
GOAL_MS = 50.0

WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Authorization"] = "Bearer %(token)s"})
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %%d, "errors": %%d, "seconds": %%f, "p50_ms": %%f, "p95_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(
    url: str, workers: int = 2, threads: int = 4, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[int, int]]:
    """gunicorn serving `url`'s database; yields (port, master pid); stops it after."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        KETNAP_DATABASE_URL=url,
        KETNAP_SCHEDULER_IN_WEB_PROCESS="false",
        KETNAP_WEB_SECRET_KEY=secrets.token_urlsafe(48),  # gunicorn refuses a weak key
        KETNAP_BIND=f"127.0.0.1:{port}",
        KETNAP_WORKERS=str(workers),
        KETNAP_THREADS=str(threads),
        KETNAP_LOG_LEVEL="warning",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra_env or {})
    log_fd, log_name = tempfile.mkstemp(prefix="ketnap-gunicorn-", suffix=".log")
    log_file = os.fdopen(log_fd, "w")
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "web.wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(port, master, Path(log_name))
        yield port, master.pid
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
        log_file.close()
        os.unlink(log_name)


def _wait_until_up(port: int, master: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if master.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def token(port: int, username: str, password: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["token"])


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(
    port: int,
    paths: list[str],
    bearer: str,
    *,
    seconds: float,
    connections: int,
    requests: int | None = None,
    prefer_wrk: bool = True,
) -> dict:
    """One bounded load run from a separate process; the client's JSON summary."""
    with tempfile.TemporaryDirectory(prefix="ketnap-load-") as tmp:
        path_file = Path(tmp) / "paths.txt"
        path_file.write_text("\n".join(paths) + "\n")
        wrk = shutil.which("wrk")
        if wrk and prefer_wrk and requests is None:
            script = Path(tmp) / "bench.lua"
            script.write_text(
                WRK_SCRIPT % {"paths": path_file, "token": bearer, "seed": random.randrange(10**6)}
            )
            done = subprocess.run(
                [
                    wrk,
                    "-t",
                    str(min(2, connections)),
                    "-c",
                    str(connections),
                    "-d",
                    f"{int(seconds)}s",
                    "--timeout",
                    "30s",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{port}",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            summary = json.loads(done.stdout.strip().splitlines()[-1])
            summary["requests_per_second"] = summary["requests"] / summary["seconds"]
            summary["client"] = "wrk"
            return summary
        command = [
            sys.executable,
            "-m",
            "bench.loadclient",
            "--port",
            str(port),
            "--paths",
            str(path_file),
            "--connections",
            str(connections),
            "--header",
            f"Authorization: Bearer {bearer}",
        ]
        command += ["--requests", str(requests)] if requests else ["--seconds", str(seconds)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        summary["client"] = "bench.loadclient"
        return summary


# Who browses: a grassroots committee's officer (their subtree: ~1 % of the cases) and
# the province's officer (every case) — the most common and the heaviest scope.
USERS = (("officer", "grassroots officer"), ("officer-tinh", "province officer"))


def scope_sample(url: str, username: str, rng: random.Random) -> tuple[list[int], list[int]]:
    """Case ids and cell ids inside `username`'s scope, to request pages that exist."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            path = connection.execute(
                sa.text(
                    'SELECT o.path FROM "user" u JOIN organisation o ON o.id = u.organisation_id '
                    "WHERE u.username = :name"
                ),
                {"name": username},
            ).scalar_one()
            cells = [
                row[0]
                for row in connection.execute(
                    sa.text("SELECT id FROM organisation WHERE kind = 'cell' AND path LIKE :p"),
                    {"p": path + "%"},
                )
            ]
            ids = [
                row[0]
                for row in connection.execute(
                    sa.text(
                        'SELECT id FROM "case" WHERE org_path LIKE :p ORDER BY random() LIMIT 3000'
                    ),
                    {"p": path + "%"},
                )
            ]
    finally:
        engine.dispose()
    return ids, cells


def page_sets(case_ids: list[int], cell_ids: list[int], rng: random.Random) -> dict[str, list]:
    """The paths each page benchmark requests, spread over the user's whole scope."""
    open_states = [s.name for s in process.STATES if not s.terminal]
    case_list = [
        f"/cases?state={rng.choice(open_states)}&page={rng.randrange(1, 6)}" for _ in range(300)
    ]
    case_list += [f"/cases?deadline=overdue&page={rng.randrange(1, 6)}" for _ in range(50)]
    case_list += [f"/cases?cell={rng.choice(cell_ids)}" for _ in range(50)]
    case_pages = [f"/cases/{rng.choice(case_ids)}" for _ in range(2000)]
    api_list = [
        f"/api/v1/cases?state={rng.choice(open_states)}&page={rng.randrange(1, 6)}"
        for _ in range(300)
    ]
    api_case = [f"/api/v1/cases/{rng.choice(case_ids)}" for _ in range(2000)]
    return {
        "case list (filtered, paginated)": case_list,
        "case page": case_pages,
        "API case list (filtered, paginated)": api_list,
        "API case detail": api_case,
    }


def run(
    url: str,
    cases: int,
    *,
    seconds: float,
    runs: int,
    memory_requests: tuple[int, int],
    connections: int = 4,
    users: tuple[tuple[str, str], ...] = USERS,
) -> list[Figure]:
    rng = random.Random(7)
    figures: list[Figure] = []
    with gunicorn(url) as (port, master):
        mixed: list[str] = []
        for username, who in users:
            bearer = token(port, username, "ketnap-demo")
            sets = page_sets(*scope_sample(url, username, rng), rng)
            for paths in sets.values():  # warm both workers' caches and pools
                load(
                    port,
                    paths,
                    bearer,
                    seconds=2,
                    connections=connections,
                    requests=20,
                    prefer_wrk=False,
                )
            for name, paths in sets.items():
                summaries = [
                    load(port, paths, bearer, seconds=seconds, connections=connections)
                    for _ in range(runs)
                ]
                # One client alone: the service time, without queueing behind the others.
                alone = load(port, paths, bearer, seconds=max(2, seconds / 2), connections=1)
                figures += _page_figures(
                    f"{name}, {who}", summaries, alone, cases, connections, seconds
                )
            # Memory: the pages of single cases, all over the widest scope (a per-case
            # cache or Machine would grow with them); lists show no more distinct cases.
            mixed = [p for name, paths in sets.items() if "list" not in name for p in paths]
        figures += _memory(port, master, bearer, mixed, memory_requests, connections, cases)
    return figures


def _page_figures(
    name: str, summaries: list[dict], alone: dict, cases: int, connections: int, seconds: float
) -> list[Figure]:
    p95 = [s["p95_ms"] for s in summaries]
    errors = sum(s["errors"] for s in summaries)
    client = summaries[0]["client"]
    rate = median([s["requests_per_second"] for s in summaries])
    log(f"  {name}: p95 {median(p95):.1f} ms, {rate:.0f} req/s, errors {errors}")
    detail = (
        f"{cases:,} cases; gunicorn 2 workers × 4 threads; {client}, {connections} connections, "
        f"{seconds:.0f} s × {len(summaries)} runs; p50 {median([s['p50_ms'] for s in summaries]):.1f} ms, "
        f"p99 {median([s['p99_ms'] for s in summaries]):.1f} ms; non-200/errors: {errors}; "
        f"one client alone: p50 {alone['p50_ms']:.1f} ms, p95 {alone['p95_ms']:.1f} ms"
    )
    return [
        Figure(
            f"web: {name} p95",
            "postgresql",
            median(p95),
            "ms",
            goal="< 50 ms",
            met=median(p95) < GOAL_MS and errors == 0,
            detail=detail,
            runs=p95,
        ),
        Figure(
            f"web: {name} throughput",
            "postgresql",
            median([s["requests_per_second"] for s in summaries]),
            "requests/s",
            runs=[s["requests_per_second"] for s in summaries],
        ),
    ]


def _memory(
    port: int,
    master: int,
    bearer: str,
    mixed: list[str],
    counts: tuple[int, int],
    connections: int,
    cases: int,
) -> list[Figure]:
    """RSS of each worker after `counts[0]` and `counts[1]` requests of `mixed` pages."""
    workers = worker_pids(master)
    before = {pid: rss_mib(pid) for pid in workers}
    first, second = counts
    load(port, mixed, bearer, seconds=0, connections=connections, requests=first)
    at_first = {pid: rss_mib(pid) for pid in workers}
    load(port, mixed, bearer, seconds=0, connections=connections, requests=second - first)
    at_second = {pid: rss_mib(pid) for pid in workers}
    growth = max(at_second[p] - at_first[p] for p in workers)
    shown = "; ".join(
        f"worker {n + 1}: {before[p]:.0f} → {at_first[p]:.0f} → {at_second[p]:.0f} MiB"
        for n, p in enumerate(workers)
    )
    log(f"  memory: {shown}")
    flat = growth <= max(5.0, 0.05 * max(at_first.values()))
    return [
        Figure(
            f"web worker RSS growth, {first:,} → {second:,} requests",
            "postgresql",
            growth,
            "MiB",
            goal="flat (≤ 5 MiB or 5 %)",
            met=flat,
            detail=f"{cases:,} cases; case pages and API case details of "
            f"{len(set(mixed)):,} cases all over the province; "
            f"start → {first:,} → {second:,} requests: {shown}",
        ),
    ]
