"""A small, bounded HTTP load client (threads + keep-alive http.client connections).

Run as its own process so it never shares an interpreter with the server:

    python -m bench.loadclient --port 8000 --paths paths.txt --seconds 15 \
        --connections 8 --header "Authorization: Bearer …"

or with `--requests N` for a fixed number of requests. Prints one JSON object:
requests, errors, seconds, requests_per_second, p50/p95/p99 in milliseconds.
Every answer but 200 counts as an error — redirects are not followed, so a page that
sends the client to /login is an error, not a fast page.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
from pathlib import Path

from bench.figures import percentile


def _worker(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    stop_at: float,
    budget: list[int],
    lock: threading.Lock,
    latencies: list[float],
    errors: list[str],
    seed: int,
) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine: list[float] = []
    while time.perf_counter() < stop_at:
        with lock:
            if budget[0] == 0:
                break
            budget[0] -= 1
        path = rng.choice(paths)
        began = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{path}: {type(error).__name__}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        mine.append(time.perf_counter() - began)
        if status != 200:
            errors.append(f"{path}: HTTP {status}")
    connection.close()
    with lock:
        latencies.extend(mine)


def run(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    seconds: float,
    connections: int,
    requests: int | None = None,
) -> dict[str, float | int | list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    budget = [requests if requests is not None else -1]
    began = time.perf_counter()
    stop_at = began + seconds
    threads = [
        threading.Thread(
            target=_worker,
            args=(port, paths, headers, stop_at, budget, lock, latencies, errors, n),
        )
        for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": elapsed,
        "requests_per_second": len(ordered) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p95_ms": percentile(ordered, 0.95) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", type=Path, required=True, help="one path per line")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args(argv)
    paths = [line for line in args.paths.read_text().splitlines() if line.strip()]
    headers = dict(h.split(": ", 1) for h in args.header)
    seconds = args.seconds if args.requests is None else 24 * 3600
    result = run(args.port, paths, headers, seconds, args.connections, args.requests)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
