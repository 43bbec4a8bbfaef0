"""Advance throughput: `Engine.advance` against the raw SQL a transition needs at least.

Each measured advance is one real `engine.advance` call — version claim, guards,
effects, deadlines, hash-chained history row, one transaction — walking fresh cases
along the procedure (demo.PATH: 15 steps from enrol_in_class to confirm) in cells of
the generated dataset. The raw equivalent is, per transaction, one conditional
UPDATE of the case and one INSERT of a history row, on the same database file in
the same run, through the plain DB-API driver.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bench.figures import Figure, log, median
from workflow import db
from workflow.access import Actor
from workflow.clock import FixedClock
from workflow.config import RuleParameters
from workflow.engine import Engine
from workflow.models import Member, Organisation
from workflow.ops import demo

RAW_UPDATE = (
    'UPDATE "case" SET state = :state, version = version + 1, updated_at = :now '
    "WHERE id = :id AND version = :version"
)
RAW_INSERT = (
    "INSERT INTO historyevent (case_id, seq, event, outcome, from_state, to_state, "
    '"on", recorded_at, actor, data, note, prev_hash, hash) VALUES (:case_id, :seq, '
    ":event, 'accepted', :state, :state, :on, :now, 'secretary', '{}', NULL, :prev, :hash)"
)


def make_engine(url: str, today: date, **options: Any) -> Engine:
    return Engine(db.connect(url, **options), RuleParameters(), FixedClock.on(today))


def world_of(engine: Engine, cell_ids: list[int]) -> demo.World:
    """demo.World for some cells of the generated tree: who acts where."""
    with engine.session() as session:
        cells = {
            o.id: o
            for o in session.exec(select(Organisation).where(col(Organisation.id).in_(cell_ids)))
        }
        parents = {
            o.id: o
            for o in session.exec(
                select(Organisation).where(
                    col(Organisation.id).in_({c.parent_id for c in cells.values()})
                )
            )
        }
        province = session.get(Organisation, 1)
        assert province is not None
        officials: dict[int, list[int]] = defaultdict(list)
        for member in session.exec(
            select(Member)
            .where(col(Member.cell_id).in_(cell_ids), Member.status == "official")
            .order_by(col(Member.id))
        ):
            assert member.id is not None
            officials[member.cell_id].append(member.id)
    secretary, committee, authority = {}, {}, {}
    for cell_id, cell in cells.items():
        assert cell_id is not None and cell.parent_id is not None
        parent = parents[cell.parent_id]
        secretary[cell_id] = Actor("secretary", "secretary", cell_id, cell.path)
        committee[cell_id] = Actor("officer", "officer", parent.id, parent.path)
        authority[cell_id] = (
            committee[cell_id]
            if parent.may_admit
            else Actor("officer-tinh", "officer", province.id, province.path)
        )
    return demo.World(list(cells), dict(officials), secretary, committee, authority)


def nominate_many(engine: Engine, world: demo.World, count: int, start: date, seed: int) -> list:
    """`count` fresh cases nominated on `start` (not timed): (case id, cell, version)."""
    rng = random.Random(seed)
    cases = []
    for n in range(count):
        cell = world.cell_ids[n % len(world.cell_ids)]
        data = demo.nomination(rng, cell, start)
        data["person"]["youth_union_member"] = False
        data["person"]["national_id"] = None  # nominees differ by name + birth date
        data["person"]["full_name"] += f" {seed}-{n}"
        outcome = engine.nominate(data, world.secretary[cell], on=start.isoformat())
        cases.append((outcome.case.id, cell, outcome.case.version))
    return cases


def walk_all(engine: Engine, world: demo.World, cases: list, start: date) -> dict[str, list]:
    """Advance every case one step at a time along PATH; seconds per event name."""
    actors = {
        "secretary": world.secretary,
        "committee": world.committee_officer,
        "authority": world.authority_officer,
    }
    spent: dict[str, list[float]] = defaultdict(list)
    on = start
    for step in demo.PATH:
        on = on + timedelta(days=step.after_days)
        moved = []
        for case_id, cell, version in cases:
            data = step.data(world, cell, on)
            began = time.perf_counter()
            engine.advance(
                case_id, step.event, data, actors[step.actor][cell], version, on=on.isoformat()
            )
            spent[step.event].append(time.perf_counter() - began)
            moved.append((case_id, cell, version + 1))
        cases[:] = moved
    return spent


def path_start(today: date) -> date:
    return today - timedelta(days=demo.path_days(list(demo.PATH)) + 5)


def raw_sqlite(path: str, cases: list, rounds: int) -> float:
    """Transactions per second of UPDATE + INSERT through sqlite3, same pragmas."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):  # as db.connect
        connection.execute(f"PRAGMA {pragma}")
    versions = {case_id: version for case_id, _, version in cases}
    update = RAW_UPDATE.replace(":state", "?").replace(":now", "?").replace(":id", "?")
    update = update.replace(":version", "?")
    insert = (
        "INSERT INTO historyevent (case_id, seq, event, outcome, from_state, to_state, "
        '"on", recorded_at, actor, data, note, prev_hash, hash) '
        "VALUES (?, ?, 'raw', 'accepted', ?, ?, ?, ?, 'secretary', '{}', NULL, ?, ?)"
    )
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    on = date.today().isoformat()
    began = time.perf_counter()
    done = 0
    for _ in range(rounds):
        for case_id, _cell, _version in cases:
            version = versions[case_id]
            digest = hashlib.sha256(f"{case_id}:{version}".encode()).hexdigest()
            connection.execute("BEGIN IMMEDIATE")
            cursor = connection.execute(update, ("official", now, case_id, version))
            if cursor.rowcount != 1:
                raise RuntimeError("raw claim lost")
            connection.execute(
                insert, (case_id, version + 1, "official", "official", on, now, digest, digest)
            )
            connection.execute("COMMIT")
            versions[case_id] = version + 1
            done += 1
    elapsed = time.perf_counter() - began
    connection.close()
    for index, (case_id, cell, _version) in enumerate(cases):
        cases[index] = (case_id, cell, versions[case_id])
    return done / elapsed


def raw_core(engine: Engine, cases: list, rounds: int) -> float:
    """The same two statements through SQLAlchemy Core text() on the engine's pool."""
    versions = {case_id: version for case_id, _, version in cases}
    now = datetime.now()
    on = date.today()
    update, insert = sa.text(RAW_UPDATE), sa.text(RAW_INSERT)
    began = time.perf_counter()
    done = 0
    for _ in range(rounds):
        for case_id, _cell, _version in cases:
            version = versions[case_id]
            digest = hashlib.sha256(f"{case_id}:{version}".encode()).hexdigest()
            with engine.database.begin() as connection:
                claimed = connection.execute(
                    update, {"state": "official", "now": now, "id": case_id, "version": version}
                )
                if claimed.rowcount != 1:
                    raise RuntimeError("raw claim lost")
                connection.execute(
                    insert,
                    {
                        "case_id": case_id,
                        "seq": version + 1,
                        "event": "raw",
                        "state": "official",
                        "on": on,
                        "now": now,
                        "prev": digest,
                        "hash": digest,
                    },
                )
            versions[case_id] = version + 1
            done += 1
    elapsed = time.perf_counter() - began
    for index, (case_id, cell, _version) in enumerate(cases):
        cases[index] = (case_id, cell, versions[case_id])
    return done / elapsed


@dataclass
class Cells:
    """Cells of the dataset the benchmark writes in (both kinds of authority)."""

    ids: list[int]

    @classmethod
    def pick(cls, url: str, count: int) -> Cells:
        database = sa.create_engine(url)
        with database.connect() as connection:
            ids = [
                row[0]
                for row in connection.execute(
                    sa.text("SELECT id FROM organisation WHERE kind = 'cell' ORDER BY id")
                )
            ]
        database.dispose()
        step = max(1, len(ids) // count)
        return cls(ids[::step][:count])


def sqlite_ratio(url: str, today: date, cases: int, runs: int) -> list[Figure]:
    """Engine advances/s vs raw UPDATE+INSERT transactions/s, alternating, same file."""
    path = make_url(url).database
    assert path
    engine = make_engine(url, today)
    world = world_of(engine, Cells.pick(url, 10).ids)
    engine_rates, raw_rates, core_rates, nominate_rates = [], [], [], []
    per_event: dict[str, list[float]] = defaultdict(list)
    for run in range(runs):
        start = path_start(today)
        began = time.perf_counter()
        batch = nominate_many(engine, world, cases, start, seed=run + 1)
        nominate_rates.append(len(batch) / (time.perf_counter() - began))
        began = time.perf_counter()
        spent = walk_all(engine, world, batch, start)
        advances = sum(len(v) for v in spent.values())
        engine_rates.append(advances / (time.perf_counter() - began))
        for event, seconds in spent.items():
            per_event[event].extend(seconds)
        rounds = len(demo.PATH)
        raw_rates.append(raw_sqlite(path, batch, rounds))
        core_rates.append(raw_core(engine, batch, rounds))
        log(
            f"  run {run + 1}: engine {engine_rates[-1]:,.0f}/s, raw {raw_rates[-1]:,.0f}/s, "
            f"core {core_rates[-1]:,.0f}/s"
        )
    engine.database.dispose()
    ratio = median(engine_rates) / median(raw_rates)
    slowest = sorted(per_event.items(), key=lambda item: -median(item[1]))[:3]
    slow = ", ".join(f"{e} {median(s) * 1000:.2f} ms" for e, s in slowest)
    mean_ms = 1000 / median(engine_rates)
    return [
        Figure(
            "advance throughput (engine)",
            "sqlite",
            median(engine_rates),
            "advances/s",
            detail=f"{cases} cases × {len(demo.PATH)} steps per run; {mean_ms:.2f} ms each; "
            f"slowest steps (median): {slow}",
            runs=engine_rates,
        ),
        Figure(
            "raw UPDATE + INSERT (sqlite3 DB-API)",
            "sqlite",
            median(raw_rates),
            "transactions/s",
            runs=raw_rates,
        ),
        Figure(
            "raw UPDATE + INSERT (SQLAlchemy Core text)",
            "sqlite",
            median(core_rates),
            "transactions/s",
            runs=core_rates,
        ),
        Figure(
            "advance / raw ratio",
            "sqlite",
            ratio,
            "",
            goal="≥ 0.7",
            met=ratio >= 0.7,
            detail=f"vs Core text(): {median(engine_rates) / median(core_rates):.3f}",
        ),
        Figure(
            "nominate throughput (engine)",
            "sqlite",
            median(nominate_rates),
            "cases/s",
            runs=nominate_rates,
        ),
    ]


# ── PostgreSQL: concurrent writers on distinct cases ─────────────────────
def _writer(url: str, today: date, cells: list[int], cases: int, seed: int, gate: Any, out: Any):
    engine = make_engine(url, today, pool_size=2, max_overflow=0)
    world = world_of(engine, cells)
    start = path_start(today)
    batch = nominate_many(engine, world, cases, start, seed)
    gate.wait()
    began = time.perf_counter()
    spent = walk_all(engine, world, batch, start)
    ended = time.perf_counter()
    engine.database.dispose()
    out.put((began, ended, sum(len(v) for v in spent.values())))


def postgres_concurrent(url: str, today: date, writers: int, cases: int, runs: int) -> list:
    """`writers` processes, each walking its own fresh cases; total advances/s."""
    cells = Cells.pick(url, writers * 2).ids
    rates, raw_rates = [], []
    context = multiprocessing.get_context("fork")
    for run in range(runs):
        gate = context.Barrier(writers)
        out = context.Queue()
        workers = [
            context.Process(
                target=_writer,
                args=(url, today, cells[n * 2 : n * 2 + 2], cases, 1000 * (run + 1) + n, gate, out),
            )
            for n in range(writers)
        ]
        for worker in workers:
            worker.start()
        results = [out.get(timeout=1800) for _ in workers]
        for worker in workers:
            worker.join()
        began = min(r[0] for r in results)
        ended = max(r[1] for r in results)
        total = sum(r[2] for r in results)
        rates.append(total / (ended - began))
        raw_rates.append(raw_postgres_concurrent(url, writers, per_writer=cases * 5))
        log(f"  run {run + 1}: {rates[-1]:,.0f} advances/s, raw {raw_rates[-1]:,.0f}/s")
    value = median(rates)
    return [
        Figure(
            f"advance throughput, {writers} concurrent writers",
            "postgresql",
            value,
            "advances/s",
            goal="≥ 1,000/s",
            met=value >= 1000,
            detail=f"{writers} processes × {cases} cases × {len(demo.PATH)} steps",
            runs=rates,
        ),
        Figure(
            f"raw UPDATE + INSERT, {writers} concurrent writers",
            "postgresql",
            median(raw_rates),
            "transactions/s",
            detail=f"ratio advance/raw {value / median(raw_rates):.3f}",
            runs=raw_rates,
        ),
    ]


def _raw_writer(url: str, ids: list[int], rounds: int, gate: Any, out: Any) -> None:
    database = sa.create_engine(url, pool_size=1)
    update, insert = sa.text(RAW_UPDATE), sa.text(RAW_INSERT)
    with database.connect() as connection:
        versions = dict(
            connection.execute(
                sa.text('SELECT id, version FROM "case" WHERE id = ANY(:ids)'), {"ids": ids}
            ).all()
        )
    now, on = datetime.now(), date.today()
    gate.wait()
    began = time.perf_counter()
    done = 0
    with database.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        for _ in range(rounds):
            for case_id in ids:
                version = versions[case_id]
                digest = hashlib.sha256(f"{case_id}:{version}".encode()).hexdigest()
                with driver.transaction():
                    claimed = driver.execute(
                        'UPDATE "case" SET state = %s, version = version + 1, updated_at = %s '
                        "WHERE id = %s AND version = %s",
                        ("official", now, case_id, version),
                    )
                    if claimed.rowcount != 1:
                        raise RuntimeError("raw claim lost")
                    driver.execute(
                        "INSERT INTO historyevent (case_id, seq, event, outcome, from_state, "
                        'to_state, "on", recorded_at, actor, data, note, prev_hash, hash) VALUES '
                        "(%s, %s, 'raw', 'accepted', 'official', 'official', %s, %s, 'secretary',"
                        " '{}', NULL, %s, %s)",
                        (case_id, version + 1, on, now, digest, digest),
                    )
                versions[case_id] = version + 1
                done += 1
    ended = time.perf_counter()
    database.dispose()
    del update, insert
    out.put((began, ended, done))


def raw_postgres_concurrent(url: str, writers: int, per_writer: int = 200, rounds: int = 5):
    database = sa.create_engine(url)
    with database.connect() as connection:
        ids = [
            row[0]
            for row in connection.execute(
                sa.text('SELECT id FROM "case" WHERE NOT open ORDER BY id LIMIT :n'),
                {"n": writers * per_writer},
            )
        ]
    database.dispose()
    context = multiprocessing.get_context("fork")
    gate, out = context.Barrier(writers), context.Queue()
    workers = [
        context.Process(
            target=_raw_writer,
            args=(url, ids[n * per_writer : (n + 1) * per_writer], rounds, gate, out),
        )
        for n in range(writers)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(r[2] for r in results) / (max(r[1] for r in results) - min(r[0] for r in results))


# ── statements per advance ────────────────────────────────────────────────
@dataclass(frozen=True)
class StepStatements:
    """The statements one advance sent (every cursor execution: an executemany is one)."""

    event: str
    statements: list[str]


def statements_along_path(
    engine: Engine, world: demo.World, cell: int, start: date
) -> list[StepStatements]:
    """Nominate one case on `start` and walk it along demo.PATH (the 15 steps from
    enrol_in_class to confirm), recording the statements of each advance — what the
    engine sends to the database per transition, BEGIN and COMMIT aside (the driver's,
    not statements of the act). Returns one StepStatements per step."""
    rng = random.Random(11)
    data = demo.nomination(rng, cell, start)
    data["person"]["youth_union_member"] = False
    outcome = engine.nominate(data, world.secretary[cell], on=start.isoformat())
    case_id, version = outcome.case.id, outcome.case.version
    assert case_id is not None
    actors = {
        "secretary": world.secretary,
        "committee": world.committee_officer,
        "authority": world.authority_officer,
    }
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(" ".join(statement.split()))

    steps, on = [], start
    sa.event.listen(engine.database, "before_cursor_execute", record)
    try:
        for step in demo.PATH:
            on = on + timedelta(days=step.after_days)
            sent.clear()
            moved = engine.advance(
                case_id,
                step.event,
                step.data(world, cell, on),
                actors[step.actor][cell],
                version,
                on=on.isoformat(),
            )
            version = moved.case.version
            steps.append(StepStatements(step.event, list(sent)))
    finally:
        sa.event.remove(engine.database, "before_cursor_execute", record)
    return steps


def statements_per_advance(url: str, today: date, walk: int = 0) -> list[StepStatements]:
    """`statements_along_path` on a fresh database at `url` holding the demo tree; with
    `walk`, then `walk` more cases along the path, printing the client's CPU per advance
    (time.process_time: this process only, not a database server's)."""
    engine = make_engine(url, today)
    db.migrate(engine.database)
    try:
        with engine.session() as session:
            world = demo.build_world(session, random.Random(7))
        start = path_start(today)
        steps = statements_along_path(engine, world, world.cell_ids[0], start)
        if walk:
            cases = nominate_many(engine, world, walk, start, seed=5)
            began = time.process_time()
            walk_all(engine, world, cases, start)
            cpu = (time.process_time() - began) / (walk * len(demo.PATH))
            print(f"  client CPU per advance over {walk} cases: {cpu * 1e6:,.0f} µs")
        return steps
    finally:
        engine.database.dispose()


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.advance --statements [--verbose] [--walk N]`: statements per
    advance over the 15 steps of demo.PATH, on SQLite and PostgreSQL (bench.postgres's
    server); with --walk, the client's CPU per advance walking N more cases."""
    import argparse
    import tempfile

    from bench import postgres

    parser = argparse.ArgumentParser(prog="python -m bench.advance", description=main.__doc__)
    parser.add_argument("--statements", action="store_true", required=True)
    parser.add_argument("--verbose", action="store_true", help="print every statement")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--walk", type=int, default=0, help="cases walked for the CPU figure")
    args = parser.parse_args(argv)
    today = date(2026, 3, 2)
    with tempfile.TemporaryDirectory(prefix="ketnap-statements-") as directory:
        urls = {"SQLite": f"sqlite:///{directory}/ketnap.db"}
        if not args.no_postgres:
            urls["PostgreSQL"] = postgres.create_database("ketnap_bench_statements")
        try:
            for name, url in urls.items():
                print(name)
                steps = statements_per_advance(url, today, args.walk)
                total = sum(len(step.statements) for step in steps)
                print(
                    f"  {total} statements for {len(steps)} advances, "
                    f"{total / len(steps):.2f} per advance"
                )
                for step in steps:
                    print(f"  {step.event:24} {len(step.statements)}")
                    for statement in step.statements if args.verbose else ():
                        print(f"      {statement[:150]}")
        finally:
            if "PostgreSQL" in urls:
                postgres.drop_database(urls["PostgreSQL"])


if __name__ == "__main__":
    main()
