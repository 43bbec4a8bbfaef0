"""Web benchmarks: gunicorn (2 workers, deploy/gunicorn.conf.py) on PostgreSQL, driven
from a second process on 127.0.0.1 — wrk when installed (with a Lua script for the
bearer header and the latency percentiles), else bench.loadclient — for a bounded time.
Then the memory of the workers after 1,000 and 10,000 requests.
"""

from __future__ import annotations

import contextlib
import http.client
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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from bench.figures import Figure, log, median
from workflow import process

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"

# Every answer other than 200 is an error (a redirect to /login, a 403, a 304 …): its
# time says nothing of the page. Each wrk thread counts its own; done() sums them.
WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end
init = function(args)
  math.randomseed(%(seed)d + id)
  non200 = 0
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Authorization"] = "Bearer %(token)s"})
end
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
done = function(summary, latency, requests)
  local non200 = 0
  for _, thread in ipairs(threads) do non200 = non200 + thread:get("non200") end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + non200
  io.write(string.format(
    '{"requests": %%d, "errors": %%d, "seconds": %%f, "p50_ms": %%f, "p95_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""
GOAL_ALONE_MS = 50.0  # p95, one client
GOAL_LOADED_MS = 150.0  # p95, 4 connections


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


# Who browses: every role of the generated data (bench/datagen.py `users`) — the
# province's officer, admin and auditor read every case; a grassroots committee's officer
# ~1 % of them, a cell's secretary ~0.1 %; a sponsor the few cases they sponsor.
USERS = (
    ("officer", "grassroots officer"),
    ("officer-tinh", "province officer"),
    ("secretary", "cell secretary"),
    ("sponsor", "sponsor"),
    ("auditor", "auditor"),
    ("admin", "admin"),
)
REPORTS = ("admissions", "breakdown", "confirmations", "classes", "pipeline", "villages")


@dataclass
class Scope:
    """Cases, overdue cases and cells inside one user's scope, to request pages that
    exist (and cursors that name real places in the lists)."""

    case_ids: list[int]
    overdue: list[tuple[date, int]]  # (next_due, id) of overdue cases
    cell_ids: list[int]


def scope_sample(url: str, username: str, today: date) -> Scope:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            user = connection.execute(
                sa.text(
                    'SELECT u.member_id, o.path FROM "user" u '
                    "LEFT JOIN organisation o ON o.id = u.organisation_id WHERE u.username = :n"
                ),
                {"n": username},
            ).one()
            if username == "sponsor":  # their scope is the cases they sponsor or help
                where = (
                    "c.id IN (SELECT case_id FROM sponsorship WHERE member_id = :m "
                    "UNION SELECT case_id FROM helperassignment WHERE member_id = :m)"
                )
            else:
                where = "c.org_path LIKE :p"
            values = {"m": user.member_id, "p": (user.path or "/none/") + "%", "t": today}
            ids = list(
                connection.execute(
                    sa.text(
                        f'SELECT c.id FROM "case" c WHERE {where} ORDER BY random() LIMIT 3000'
                    ),
                    values,
                ).scalars()
            )
            overdue = [
                (row[0], row[1])
                for row in connection.execute(
                    sa.text(
                        f'SELECT c.next_due, c.id FROM "case" c WHERE {where} '
                        "AND c.next_due < :t ORDER BY random() LIMIT 500"
                    ),
                    values,
                )
            ]
            cells = list(
                connection.execute(
                    sa.text("SELECT id FROM organisation WHERE kind = 'cell' AND path LIKE :p"),
                    values,
                ).scalars()
            )
    finally:
        engine.dispose()
    return Scope(ids, overdue, cells)


def page_sets(scope: Scope, rng: random.Random) -> dict[str, list[str]]:
    """The paths each page benchmark requests, spread over the user's whole scope: first
    pages and pages deep in the list (by cursor, as the lists' Next links go on)."""
    open_states = [s.name for s in process.STATES if not s.terminal]
    ids, cells = scope.case_ids or [1], scope.cell_ids
    case_list = [f"/cases?state={rng.choice(open_states)}" for _ in range(100)]
    case_list += [
        f"/cases?state={rng.choice(open_states)}&after={rng.choice(ids)}" for _ in range(200)
    ]
    case_list += [f"/cases?after={rng.choice(ids)}" for _ in range(50)]
    case_list += [f"/cases?cell={rng.choice(cells)}" for _ in range(50) if cells]
    overdue = ["/cases?deadline=overdue"] * 20
    overdue += [f"/cases?deadline=overdue&after={d}_{i}" for d, i in scope.overdue]
    api_list = [f"/api/v1/cases?state={rng.choice(open_states)}" for _ in range(100)]
    api_list += [
        f"/api/v1/cases?state={rng.choice(open_states)}&after={rng.choice(ids)}" for _ in range(200)
    ]
    api_list += [f"/api/v1/cases?after={rng.choice(ids)}&per_page=50" for _ in range(50)]
    return {
        "dashboard": ["/"],
        "case list (filtered, by cursor)": case_list,
        "case list, overdue first": overdue,
        "case page": [f"/cases/{rng.choice(ids)}" for _ in range(2000)],
        "reports page (this year)": [f"/reports/{name}" for name in REPORTS],
        "API case list (filtered, by cursor)": api_list,
        "API case detail": [f"/api/v1/cases/{rng.choice(ids)}" for _ in range(2000)],
    }


def checked(port: int, sets: dict[str, list[str]], bearer: str, who: str) -> dict[str, list[str]]:
    """The sets whose pages answer 200: a set the role may not open (403: the sponsor's
    reports) is left out and said so; any other answer stops the benchmark, since its
    timing would say nothing of the page."""
    kept = {}
    for name, paths in sets.items():
        if not paths:
            continue
        status = _status(port, paths[0], bearer)
        if status == 403:
            log(f"  {who}: {name} — HTTP 403 (the role may not): not measured")
            continue
        if status != 200:
            raise RuntimeError(f"{who}: {paths[0]} answers HTTP {status}, not 200")
        kept[name] = paths
    return kept


def _status(port: int, path: str, bearer: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {bearer}"})
        response = connection.getresponse()
        response.read()
        return int(response.status)
    finally:
        connection.close()


def run(
    url: str,
    cases: int,
    *,
    seconds: float,
    runs: int,
    memory_requests: tuple[int, int],
    connections: int = 4,
    users: tuple[tuple[str, str], ...] = USERS,
    today: date | None = None,
    pages: str = "",
) -> list[Figure]:
    """Every role's page sets (only those whose names contain `pages`, when given: then
    no memory run), at `connections` connections and for one client alone."""
    rng = random.Random(7)
    day = today or date.today()
    figures: list[Figure] = []
    with gunicorn(url) as (port, master):
        mixed: list[str] = []
        memory_bearer = ""
        for username, who in users:
            bearer = token(port, username, "ketnap-demo")
            offered = page_sets(scope_sample(url, username, day), rng)
            offered = {name: paths for name, paths in offered.items() if pages in name}
            sets = checked(port, offered, bearer, who)
            for paths in sets.values():  # warm both workers' caches and pools
                load(port, paths, bearer, seconds=2, connections=connections, requests=20)
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
            if not mixed or username == "officer-tinh":
                # Memory: the pages of single cases, all over the widest scope (a per-case
                # cache or Machine would grow with them); lists show no more distinct cases.
                mixed = [p for name, paths in sets.items() if "case " in name for p in paths]
                mixed = [p for p in mixed if "cases?" not in p]
                memory_bearer = bearer
        if mixed and not pages:
            figures += _memory(
                port, master, memory_bearer, mixed, memory_requests, connections, cases
            )
    return figures


def _page_figures(
    name: str, summaries: list[dict], alone: dict, cases: int, connections: int, seconds: float
) -> list[Figure]:
    """Two figures per page: p95 for one client alone (goal < 50 ms: the service time)
    and p95 at `connections` concurrent connections (goal < 150 ms: with queueing)."""
    # a run that finished no request has no latency to show: it fails its goal
    for summary in (*summaries, alone):
        if not summary["requests"]:
            summary.update(p95_ms=float("inf"), p50_ms=float("inf"), p99_ms=float("inf"))
            summary["errors"] = max(1, summary["errors"])
    p95 = [s["p95_ms"] for s in summaries]
    errors = sum(s["errors"] for s in summaries)
    client = summaries[0]["client"]
    rate = median([s["requests_per_second"] for s in summaries])
    log(
        f"  {name}: p95 {median(p95):.1f} ms at {connections} connections, {rate:.0f} req/s; "
        f"alone p95 {alone['p95_ms']:.1f} ms; non-200 {errors + alone['errors']}"
    )
    setting = f"{cases:,} cases; gunicorn 2 workers × 4 threads; {client}"
    loaded = (
        f"{setting}, {connections} connections, {seconds:.0f} s × {len(summaries)} runs; "
        f"p50 {median([s['p50_ms'] for s in summaries]):.1f} ms, "
        f"p99 {median([s['p99_ms'] for s in summaries]):.1f} ms; {rate:.0f} requests/s; "
        f"non-200 or failed: {errors}"
    )
    single = (
        f"{setting}, 1 connection, {max(2, seconds / 2):.0f} s; p50 {alone['p50_ms']:.1f} ms, "
        f"p99 {alone['p99_ms']:.1f} ms; {alone['requests_per_second']:.0f} requests/s; "
        f"non-200 or failed: {alone['errors']}"
    )
    return [
        Figure(
            f"web: {name}, p95 one client",
            "postgresql",
            alone["p95_ms"],
            "ms",
            goal=f"< {GOAL_ALONE_MS:.0f} ms",
            met=alone["p95_ms"] < GOAL_ALONE_MS and alone["errors"] == 0,
            detail=single,
        ),
        Figure(
            f"web: {name}, p95 {connections} connections",
            "postgresql",
            median(p95),
            "ms",
            goal=f"< {GOAL_LOADED_MS:.0f} ms",
            met=median(p95) < GOAL_LOADED_MS and errors == 0,
            detail=loaded,
            runs=p95,
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
