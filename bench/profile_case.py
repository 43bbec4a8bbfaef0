"""One case page at the bench's scale, profiled: statements sent (with their time) and
the Python profile of the request, through the Flask test client against a reused bench
database. `python -m bench.profile_case WORKDIR [CASES] [USERNAME] [CASE_ID]`."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import datagen
from bench import postgres as pg


def main(argv: list[str]) -> None:
    workdir = Path(argv[0])
    cases = int(argv[1]) if len(argv) > 1 else 1_000_000
    username = argv[2] if len(argv) > 2 else "officer-tinh"
    pg.use_workdir(workdir)
    url = pg.database_url(f"ketnap_bench_{cases}")
    sidecar = json.loads((workdir / f"ketnap_bench_{cases}.postgresql.json").read_text())
    datagen.ensure_schema(url, date.fromisoformat(sidecar["today"]))  # as --reuse does
    os.environ["KETNAP_DATABASE_URL"] = url
    os.environ["KETNAP_SCHEDULER_IN_WEB_PROCESS"] = "false"
    from web.app import create_app

    app = create_app(TESTING=True)
    engine = app.extensions["ketnap.engine"].database
    client = app.test_client()
    answer = client.post("/api/v1/token", json={"username": username, "password": "ketnap-demo"})
    bearer = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    case_id = int(argv[3]) if len(argv) > 3 else _some_case(url)
    path = f"/cases/{case_id}"
    client.get(path, headers=bearer)  # warm
    statements: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_a: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_a: Any) -> None:
        statements.append((time.perf_counter() - started.pop(id(cursor), 0.0), statement))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    profile = cProfile.Profile()
    began = time.perf_counter()
    profile.enable()
    response = client.get(path, headers=bearer)
    profile.disable()
    took = time.perf_counter() - began
    print(
        f"{path} as {username}: HTTP {response.status_code}, {len(response.data):,} bytes, "
        f"{took * 1000:.0f} ms, {len(statements)} statements, "
        f"{sum(s for s, _ in statements) * 1000:.0f} ms in the database"
    )
    for seconds, statement in sorted(statements, reverse=True)[:15]:
        print(f"  {seconds * 1000:7.1f} ms  {' '.join(statement.split())[:220]}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(
        r"workflow|web/|forms", 60
    )
    print(out.getvalue())


def _some_case(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT case_id FROM historyevent GROUP BY case_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    return int(found)


if __name__ == "__main__":
    main(sys.argv[1:])
