"""`python -m bench.peers`: one transition with its history row, Ketnap beside its peers.

Side by side in ONE process, alternating (each round runs every contender once, in a
rotating order), on SQLite files in WAL mode, at synchronous=NORMAL and =FULL:

- Ketnap `Engine.advance` (today's engine, on SQLAlchemy Core) walking fresh cases along
  the 15 steps of the procedure (demo.PATH), and the engine as it was before (the ORM
  unit of work: tests/engine/legacy, kept for the equivalence test) on the same walk;
- django-fsm-2 + django-fsm-log: a model with an FSMField, ConcurrentTransitionMixin,
  each transition in `transaction.atomic()` (load, transition, save) and logged as a
  StateLog row by django-fsm-log;
- SpiffWorkflow 3: a BPMN process of 15 user tasks in sequence; each transition loads
  the workflow from its serialized row, completes the ready task, serializes it back
  and writes the row and a history row in one transaction;
- raw sqlite3: UPDATE of the case row and INSERT of a history row with a SHA-256 chain.

Reported per contender and level: CPU µs per transition (time.process_time, the median
of the rounds) and transitions/s (wall clock). Needs the optional extra
`pip install -e .[bench]`; prints the table, and with --write rewrites the "peers"
section of BENCHMARKS.md. `--levels FULL` measures one level only; `--replay-cases 0`
leaves out the import replay.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import machine, report
from bench.figures import Figure, log, median

LEVELS = ("NORMAL", "FULL")
BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
STEPS = 15


@dataclass
class Contender:
    """A way to make transitions: `prepare(n)` readies n (untimed), `run()` makes them."""

    name: str
    prepare: Callable[[int], None]
    run: Callable[[], int]
    cpu_us: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)


# ── raw sqlite3 ───────────────────────────────────────────────────────────
class Raw:
    def __init__(self, path: Path, level: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", f"synchronous={level}", "foreign_keys=ON"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, state INTEGER, "
            "version INTEGER, head TEXT)"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY, item_id INTEGER, "
            "seq INTEGER, event TEXT, recorded_at TEXT, prev TEXT, hash TEXT)"
        )
        self.items: list[int] = []

    def prepare(self, n: int) -> None:
        self.db.execute("BEGIN")
        self.items = [
            int(self.db.execute("INSERT INTO item VALUES (NULL, 0, 1, '')").lastrowid or 0)
            for _ in range(n)
        ]
        self.db.execute("COMMIT")

    def run(self) -> int:
        count = 0
        for step in range(STEPS):
            for item in self.items:
                self.db.execute("BEGIN")
                head = self.db.execute("SELECT head FROM item WHERE id = ?", (item,)).fetchone()[0]
                now = time.strftime("%Y-%m-%dT%H:%M:%S")
                digest = hashlib.sha256(f"{head}|{item}|{step}|{now}".encode()).hexdigest()
                self.db.execute(
                    "UPDATE item SET state = ?, version = version + 1, head = ? "
                    "WHERE id = ? AND version = ?",
                    (step + 1, digest, item, step + 1),
                )
                self.db.execute(
                    "INSERT INTO history VALUES (NULL, ?, ?, ?, ?, ?, ?)",
                    (item, step + 2, f"step{step}", now, head, digest),
                )
                self.db.execute("COMMIT")
                count += 1
        return count


# ── Ketnap ────────────────────────────────────────────────────────────────
class Ketnap:
    """Fresh cases walked along demo.PATH by `engine_class` on a copy of the template."""

    def __init__(self, template: Path, path: Path, level: str, engine_class: Any) -> None:
        from workflow import db
        from workflow.config import RuleParameters
        from workflow.ops import demo

        for suffix in ("", "-wal"):
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", f"{path}{suffix}")
        self.world = _TEMPLATE_WORLD[0]
        self.today = date.today()
        self.start = self.today - timedelta(days=demo.path_days(list(demo.PATH)) + 5)
        database = db.connect(f"sqlite:///{path}", synchronous=level)  # type: ignore[arg-type]
        self.engine = engine_class(database, RuleParameters(), _clock(self.today))
        self.rng = random.Random(3)
        self.cases: list[tuple[int, int]] = []
        self.demo = demo

    def prepare(self, n: int) -> None:
        self.cases = []
        for k in range(n):
            cell = self.world.cell_ids[k % len(self.world.cell_ids)]
            data = self.demo.nomination(self.rng, cell, self.start)
            data["person"]["youth_union_member"] = False
            data["person"]["national_id"] = None
            data["person"]["full_name"] += f" {self.rng.random()}"
            outcome = self.engine.nominate(data, self.world.secretary[cell], on=self.start)
            self.cases.append((outcome.case.id, cell))

    def run(self) -> int:
        actors = {
            "secretary": self.world.secretary,
            "committee": self.world.committee_officer,
            "authority": self.world.authority_officer,
        }
        on, version, count = self.start, 1, 0
        for step in self.demo.PATH:
            on = on + timedelta(days=step.after_days)
            for case_id, cell in self.cases:
                data = step.data(self.world, cell, on)
                self.engine.advance(
                    case_id, step.event, data, actors[step.actor][cell], version, on=on
                )
                count += 1
            version += 1
        return count


_TEMPLATE_WORLD: list[Any] = []


def _clock(today: date) -> Any:
    from workflow.clock import FixedClock

    return FixedClock.on(today)


def ketnap_template(directory: Path) -> Path:
    from workflow import db
    from workflow.config import RuleParameters
    from workflow.engine import Engine
    from workflow.ops import demo

    path = directory / "template.db"
    database = db.connect(f"sqlite:///{path}")
    db.migrate(database)
    engine = Engine(database, RuleParameters(), _clock(date.today()))
    with engine.session() as session:
        _TEMPLATE_WORLD.append(demo.build_world(session, random.Random(7)))
    database.dispose()
    return path


class Replays:
    """Official members' whole histories (nomination + 15 acts) replayed as an import
    does: `Engine.replay` in bulk, or one case at a time (nominate + advance inside a
    SAVEPOINT each, the import's way before the bulk replay)."""

    def __init__(self, template: Path, path: Path, level: str, bulk: bool) -> None:
        from workflow.engine import Engine

        self.ketnap = Ketnap(template, path, level, Engine)
        self.bulk = bulk
        self.cases: list[Any] = []

    def prepare(self, n: int) -> None:
        from workflow.replay import CaseHistory, ReplayAct

        k, world = self.ketnap, self.ketnap.world
        actors = {
            "secretary": world.secretary,
            "committee": world.committee_officer,
            "authority": world.authority_officer,
        }
        self.cases = []
        for number in range(n):
            cell = world.cell_ids[number % len(world.cell_ids)]
            on, acts = k.start, []
            for step in k.demo.PATH:
                on = on + timedelta(days=step.after_days)
                acts.append(
                    ReplayAct(step.event, on, step.data(world, cell, on), actors[step.actor][cell])
                )
            data = k.demo.nomination(k.rng, cell, k.start)
            data["person"]["youth_union_member"] = False
            data["person"]["national_id"] = None
            data["person"]["full_name"] += f" {k.rng.random()}"
            self.cases.append(CaseHistory(data, k.start, world.secretary[cell], acts, "import"))

    def run(self) -> int:
        engine = self.ketnap.engine
        if self.bulk:
            results = engine.replay(self.cases)
            return sum(1 for r in results if r.accepted)
        written = 0
        with engine.session() as session:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            for case in self.cases:
                with session.begin_nested():
                    outcome = engine.nominate(
                        case.nomination,
                        case.actor,
                        on=case.nominated_on,
                        note=case.note,
                        session=session,
                        imported=True,
                    )
                    case_id, version = outcome.case.id, outcome.case.version
                    for act in case.acts:
                        moved = engine.advance(
                            case_id,
                            act.event,
                            act.data,
                            act.actor,
                            version,
                            on=act.on,
                            note=case.note,
                            session=session,
                            imported=True,
                        )
                        version = moved.case.version
                written += 1
            session.commit()
        return written


# ── django-fsm-2 + django-fsm-log ─────────────────────────────────────────
def django_setup(path: Path) -> Any:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_fsm_log",
            "bench.peer_django",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(path),
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    from bench.peer_django.models import Candidate

    return Candidate


class Django:
    def __init__(self, model: Any, level: str) -> None:
        self.model, self.level = model, level
        self.ids: list[int] = []

    def _pragma(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={self.level}")

    def prepare(self, n: int) -> None:
        self._pragma()
        self.ids = [self.model.objects.create().pk for _ in range(n)]

    def run(self) -> int:
        from django.db import transaction

        self._pragma()
        count = 0
        for step in range(STEPS):
            for pk in self.ids:
                with transaction.atomic():
                    candidate = self.model.objects.get(pk=pk)
                    getattr(candidate, f"step{step}")()
                    candidate.save()
                count += 1
        return count


# ── SpiffWorkflow ─────────────────────────────────────────────────────────
def bpmn(tasks: int) -> bytes:
    """A process of `tasks` user tasks in sequence."""
    nodes = ['<bpmn:startEvent id="start"/>']
    flows = []
    previous = "start"
    for n in range(tasks):
        nodes.append(f'<bpmn:userTask id="t{n}" name="Step {n}"/>')
        flows.append(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{previous}" targetRef="t{n}"/>')
        previous = f"t{n}"
    nodes.append('<bpmn:endEvent id="end"/>')
    flows.append(f'<bpmn:sequenceFlow id="fend" sourceRef="{previous}" targetRef="end"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="d" targetNamespace="http://bpmn.io/schema/bpmn">'
        '<bpmn:process id="admission" isExecutable="true">'
        + "".join(nodes + flows)
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


class Spiff:
    def __init__(self, path: Path, level: str) -> None:
        from lxml import etree
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_xml(etree.fromstring(bpmn(STEPS)), filename="admission.bpmn")
        self.spec = parser.get_spec("admission")
        self.serializer = BpmnWorkflowSerializer()
        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", f"synchronous={level}"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE IF NOT EXISTS wf (id INTEGER PRIMARY KEY, body TEXT)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, wf_id INTEGER, "
            "task TEXT, at TEXT)"
        )
        self.ids: list[int] = []

    def prepare(self, n: int) -> None:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

        self.db.execute("BEGIN")
        self.ids = []
        for _ in range(n):
            workflow = BpmnWorkflow(self.spec)
            workflow.do_engine_steps()
            body = self.serializer.serialize_json(workflow)
            self.ids.append(
                int(self.db.execute("INSERT INTO wf VALUES (NULL, ?)", (body,)).lastrowid or 0)
            )
        self.db.execute("COMMIT")

    def run(self) -> int:
        from SpiffWorkflow.util.task import TaskState

        count = 0
        for _ in range(STEPS):
            for wf_id in self.ids:
                self.db.execute("BEGIN IMMEDIATE")
                body = self.db.execute("SELECT body FROM wf WHERE id = ?", (wf_id,)).fetchone()[0]
                workflow = self.serializer.deserialize_json(body)
                task = workflow.get_next_task(state=TaskState.READY, manual=True)
                task.run()
                workflow.do_engine_steps()
                self.db.execute(
                    "UPDATE wf SET body = ? WHERE id = ?",
                    (self.serializer.serialize_json(workflow), wf_id),
                )
                self.db.execute(
                    "INSERT INTO log VALUES (NULL, ?, ?, ?)",
                    (wf_id, task.task_spec.name, time.strftime("%Y-%m-%dT%H:%M:%S")),
                )
                self.db.execute("COMMIT")
                count += 1
        return count


# ── the run ───────────────────────────────────────────────────────────────
def contenders(directory: Path, level: str, peers: bool) -> list[Contender]:
    from workflow.engine import Engine

    template = directory / "template.db"
    found = [
        _contender(
            "Ketnap Engine.advance (SQLAlchemy Core)",
            Ketnap(template, directory / f"core-{level}.db", level, Engine),
        )
    ]
    try:
        from tests.engine.legacy.engine import Engine as Legacy
    except ImportError:  # an installed package without the tests
        log("the legacy engine (tests/engine/legacy) is not importable: skipped")
    else:
        found.append(
            _contender(
                "Ketnap Engine.advance before (ORM unit of work)",
                Ketnap(template, directory / f"orm-{level}.db", level, Legacy),
            )
        )
    if peers:
        found.append(_contender("django-fsm-2 + django-fsm-log", Django(_DJANGO[0], level)))
        found.append(_contender("SpiffWorkflow 3", Spiff(directory / f"spiff-{level}.db", level)))
    found.append(
        _contender(
            "raw sqlite3 (UPDATE + INSERT, hash chain)", Raw(directory / f"raw-{level}.db", level)
        )
    )
    return found


_DJANGO: list[Any] = []


def _contender(name: str, runner: Any) -> Contender:
    return Contender(name, runner.prepare, runner.run)


def measure(contenders_: list[Contender], cases: int, rounds: int) -> None:
    for round_ in range(rounds):
        order = contenders_[round_ % len(contenders_) :] + contenders_[: round_ % len(contenders_)]
        for contender in order:
            contender.prepare(cases)
            cpu, wall = time.process_time(), time.perf_counter()
            count = contender.run()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            contender.cpu_us.append(cpu / count * 1e6)
            contender.rate.append(count / wall)
            log(
                f"  {contender.name}: {contender.cpu_us[-1]:,.0f} µs CPU, {contender.rate[-1]:,.0f}/s"
            )


def figures(results: dict[str, list[Contender]]) -> list[Figure]:
    out = []
    for level, measured in results.items():
        for contender in measured:
            out.append(
                Figure(
                    f"{contender.name}: CPU per transition",
                    f"sqlite {level}",
                    median(contender.cpu_us),
                    "µs",
                    runs=[round(v) for v in contender.cpu_us],
                )
            )
            out.append(
                Figure(
                    f"{contender.name}: transitions/s",
                    f"sqlite {level}",
                    median(contender.rate),
                    "/s",
                    runs=[round(v) for v in contender.rate],
                )
            )
    return out


def replay_figures(measured: list[Contender]) -> list[Figure]:
    out = []
    for contender in measured:
        cpu = median(contender.cpu_us)
        out.append(
            Figure(
                f"{contender.name}: cases per CPU-second",
                "sqlite FULL",
                1e6 / cpu,
                "cases/s",
                detail="official members, 16 history rows each",
                runs=[round(1e6 / v) for v in contender.cpu_us],
            )
        )
        out.append(
            Figure(
                f"{contender.name}: cases/s (wall clock)",
                "sqlite FULL",
                median(contender.rate),
                "cases/s",
                goal="≥ 1,000 cases/s" if "bulk" in contender.name else "",
                met=median(contender.rate) >= 1000 if "bulk" in contender.name else None,
                runs=[round(v) for v in contender.rate],
            )
        )
    return out


def _replays(directory: Path) -> list[Contender]:
    template = directory / "template.db"
    return [
        _contender(
            "Ketnap Engine.replay (bulk)", Replays(template, directory / "bulk.db", "FULL", True)
        ),
        _contender(
            "Ketnap one case at a time (nominate + advances, SAVEPOINT each)",
            Replays(template, directory / "one.db", "FULL", False),
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--cases", type=int, default=20, help="cases walked per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--replay-cases", type=int, default=300, help="cases per replay round")
    parser.add_argument("--no-peers", action="store_true", help="Ketnap and raw only")
    parser.add_argument(
        "--levels", default=",".join(LEVELS), help="synchronous levels, e.g. FULL (default: both)"
    )
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md's section")
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="ketnap-peers-"))
    try:
        ketnap_template(directory)
        if not args.no_peers:
            _DJANGO.append(django_setup(directory / "django.db"))
        results = {}
        for level in args.levels.split(","):
            log(f"synchronous={level}")
            measured = contenders(directory, level, not args.no_peers)
            measure(measured, args.cases, args.rounds)
            results[level] = measured
        replays = _replays(directory) if args.replay_cases else []  # 0: no replay measured
        if replays:
            log("import replay, synchronous=FULL")
            measure(replays, args.replay_cases, args.rounds)
        section = report.Section(
            key="peers",
            title="Peers — one transition with its history row, side by side",
            commands=[
                "pip install -e .[bench]   # django-fsm-2, django-fsm-log, SpiffWorkflow",
                f"python -m bench.peers --cases {args.cases} --rounds {args.rounds} "
                f"--replay-cases {args.replay_cases} --levels {args.levels} --write",
            ],
            machine=machine.describe(None),
            data=[
                f"{args.cases} cases × {STEPS} transitions per contender per round, "
                f"{args.rounds} rounds alternating in one process; SQLite WAL files; "
                "CPU is time.process_time per transition, the median over rounds "
                "(each round in brackets)",
                *(
                    [
                        f"import replay: {args.replay_cases} official members' histories per "
                        "round, the bulk and the one-by-one replay alternating"
                    ]
                    if replays
                    else []
                ),
            ],
            figures=figures(results) + replay_figures(replays),
        )
        if args.write:
            report.write(BENCHMARKS, section)
        print(section.render())
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
