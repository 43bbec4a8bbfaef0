"""`Engine.replay`: many cases' history at once — the engine's bulk way in.

Each case is replayed exactly as `nominate` and one `advance` per act would: the same
process table, data parsing, access checks, Machine and guards, effects, deadlines,
recorded times and hash chain (the engine's own methods do each part). What differs is
where the rows go: a case's rows are built in memory while its acts run (a guard reads
the case's own sponsors, helpers and person from there; a class is resolved by
workflow.enrolment's one resolution against the stored classes, read once per call, and
those this call's cases made), and the accepted cases of a call are written at the end
in one batch per table — by the driver itself: one executemany on SQLite, one COPY on
PostgreSQL, the values bound as SQLAlchemy binds them — with the ledger chained over
them in order. A case whose act is refused is not written at all, and the others go on.

Row ids are taken before the rows are written: on SQLite from each table's largest id
(the caller's transaction holds the database's write lock, see `Engine.replay`), on
PostgreSQL from the tables' sequences (reserved in blocks).
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel import SQLModel

from workflow import access, enrolment, process, schema, stays
from workflow.access import Actor
from workflow.acts import STATEMENTS as _STATEMENTS
from workflow.acts import Act as _Act
from workflow.acts import CaseRecord, _table, derived
from workflow.acts import not_allowed as _not_allowed
from workflow.acts import note as _note
from workflow.clock import Clock
from workflow.config import RuleParameters
from workflow.deadlines import live_deadlines
from workflow.history import ledger
from workflow.models import (
    Attendance,
    Case,
    CaseDeadline,
    CaseStay,
    Course,
    HelperAssignment,
    HistoryEvent,
    LedgerEntry,
    Member,
    Organisation,
    Person,
    Sponsorship,
)
from workflow.refusal import Refusal

# The tables a replay writes, in the order their foreign keys need.
WRITTEN: tuple[type[SQLModel], ...] = (
    Person,
    Course,
    Member,
    Case,
    Sponsorship,
    HelperAssignment,
    Attendance,
    CaseDeadline,
)


class Engine(Protocol):
    """The engine's parts a replay runs (workflow.engine.Engine; not imported here, as
    the engine imports this module for `Engine.replay`)."""

    clock: Clock

    def _act_date(self, on: Any) -> date: ...
    def _no_future_dates(self, spec: process.Event, parsed: dict[str, Any]) -> None: ...
    def _params_on(self, on: date) -> RuleParameters: ...
    def _organisation(self, connection: Connection, org_id: int) -> Organisation | None: ...
    def _history_row(
        self,
        case: dict[str, Any],
        event: str,
        from_state: str | None,
        data: dict[str, Any],
        on: date,
        actor: Actor,
        note: str | None,
        previous_recorded: datetime | None,
        imported: bool,
        outcome: str | None = None,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ReplayAct:
    """One historical act: `event` on `on` by `actor`, with its data."""

    event: str
    on: date
    data: dict[str, Any]
    actor: Actor


@dataclass(frozen=True)
class CaseHistory:
    """A case to replay: its nomination and its later acts, in order."""

    nomination: dict[str, Any]
    nominated_on: date
    actor: Actor  # who nominates
    acts: Sequence[ReplayAct]
    note: str | None = None


@dataclass
class Replayed:
    """What became of one CaseHistory: its case id, or the act that was refused
    (`step` None: the nomination) with the refusal."""

    case_id: int | None = None
    step: int | None = None
    error: Exception | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None


class Ids:
    """The next ids of the written tables, taken before the rows are written."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.free: dict[type[SQLModel], list[int]] = defaultdict(list)
        self.next: dict[type[SQLModel], int] = {}

    def mark(self) -> dict[type[SQLModel], int]:
        return dict(self.next)

    def restore(self, mark: dict[type[SQLModel], int]) -> None:
        """Give back the ids of a refused case (SQLite: as its rolled-back rows would).
        A PostgreSQL sequence never gives a value back, rolled back or not."""
        self.next.update(mark)

    def take(self, model: type[SQLModel]) -> int:
        if self.postgres:
            free = self.free[model]
            if not free:
                sequence = f"{_table(model).name}_id_seq"
                reserve = sa.text(f"SELECT nextval('\"{sequence}\"') FROM generate_series(1, 1024)")
                free.extend(reversed(list(self.connection.scalars(reserve))))
            return free.pop()
        if model not in self.next:
            table = _table(model)
            largest = self.connection.scalar(sa.select(sa.func.max(table.c.id)))
            self.next[model] = (largest or 0) + 1
        taken = self.next[model]
        self.next[model] += 1
        return taken


@dataclass
class Built:
    """One case's rows, built in memory while its acts run."""

    rows: dict[type[SQLModel], dict[int, dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    deadlines: dict[str, tuple[int, date]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    stays: list[dict[str, Any]] = field(default_factory=list)  # the states it has left
    note: str | None = None
    # opened before the case's first write to a stored row (none on the import's path)
    savepoint: sa.NestedTransaction | None = None


class Batch:
    """The rows of the accepted cases of one `Engine.replay` call, and what the
    replayed acts may read: the database, the courses made or moved in this call."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self.engine, self.connection = engine, connection
        self.ids = Ids(connection)
        self.rows: dict[type[SQLModel], list[dict[str, Any]]] = defaultdict(list)
        self.history: list[dict[str, Any]] = []
        self.stays: list[dict[str, Any]] = []
        self.members: dict[int, Any] = {}
        self.identities: dict[tuple[Any, ...], int] = {}  # open cases of this call
        self.looked_up = False  # look_up_people ran: identities holds the stored ones too
        self.classes: dict[int, dict[str, Any]] = {}  # made by this call's accepted cases
        self.lines: dict[int, enrolment.Line] = {}  # a cell's line of organisations
        # stored classes held on a line, by kind: their starts (sorted) and their rows
        self.held: dict[tuple[Any, ...], tuple[list[date], list[tuple[Any, ...]]]] = {}
        self.kinds: dict[int, tuple[str, str] | None] = {}  # a stored class's kind, path

    def organisation(self, org_id: int) -> Organisation | None:
        return self.engine._organisation(self.connection, org_id)

    def look_up_people(self, cases: Sequence[CaseHistory]) -> None:
        """The open cases of every person of this call, in one query (one_open_case
        then asks this map instead of the database, case by case)."""
        names: set[tuple[str, date]] = set()
        ids: set[str] = set()
        fields = tuple(f for f in process.NOMINATE.fields if f.name == "person")
        for history in cases:
            try:  # the particulars as the nomination will parse them
                person = schema.parse(fields, {"person": history.nomination.get("person")})
            except (schema.InvalidData, Refusal):
                continue  # the nomination itself will say what is wrong
            for key in _identities(person["person"]):
                if key[0] == "name":
                    names.add((key[1], key[2]))
                else:
                    ids.add(key[1])
        self.looked_up = True
        if not names and not ids:
            return
        p, c = _table(Person).c, _table(Case).c
        query = (
            sa.select(p.full_name, p.birth_date, p.national_id, c.id)
            .join(_table(Case), c.person_id == p.id)
            .where(
                c.open,
                sa.or_(sa.tuple_(p.full_name, p.birth_date).in_(names), p.national_id.in_(ids)),
            )
        )
        for full_name, birth, national_id, case_id in self.connection.execute(query):
            self.identities.setdefault(("name", full_name, birth), case_id)
            if national_id:
                self.identities.setdefault(("id", national_id), case_id)

    def member(self, member_id: int, built: Built) -> Any:
        if member_id in built.rows[Member]:
            return _Record(built.rows[Member][member_id])
        if member_id not in self.members:
            query = sa.select(_table(Member)).where(_table(Member).c.id == member_id)
            self.members[member_id] = self.connection.execute(query).first()
        return self.members[member_id]

    def keep(self, built: Built) -> None:
        for model, rows in built.rows.items():
            self.rows[model].extend(rows.values())
        self.classes.update(built.rows[Course])
        self.history.extend(built.history)
        self.stays.extend(built.stays)

    def write(self) -> None:
        """Every kept row, table by table, then the ledger over the history rows."""
        for model in WRITTEN:
            write_rows(self.connection, _table(model), self.rows.get(model, []))
        write_rows(self.connection, _table(HistoryEvent), self.history)
        entries = ledger.chained(self.connection, self.history)
        write_rows(self.connection, _table(LedgerEntry), entries)
        write_rows(self.connection, _table(CaseStay), self.stays)


def write_rows(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Many rows of one table, every row with the first row's columns, in the caller's
    transaction: on PostgreSQL one COPY, on SQLite one executemany of the driver. The
    values are bound as SQLAlchemy binds them (the columns' types' processors: SQLite's
    dates as text), so the rows stored are those `connection.execute(insert, rows)`
    would store — without its per-row parameter processing."""
    if not rows:
        return
    if connection.dialect.driver not in ("psycopg", "pysqlite"):
        connection.execute(sa.insert(table), rows)  # a driver of another kind
        return
    names = tuple(rows[0])
    sql, processed = _statement(connection.dialect, table, names)
    values: list[Any] = [tuple(row[name] for name in names) for row in rows]
    if processed:
        for number, row in enumerate(values):
            changed = list(row)
            for index, process in processed:
                changed[index] = process(changed[index])
            values[number] = changed
    driver = connection.connection.driver_connection
    assert driver is not None
    failure = connection.dialect.loaded_dbapi.Error
    cursor = driver.cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(sql) as copy:
                for row in values:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, values)
    except failure as error:  # as SQLAlchemy raises it: the import's fallback catches it
        raise sa.exc.DBAPIError.instance(sql, None, error, failure) from error
    finally:
        cursor.close()


_Processed = list[tuple[int, Any]]
_STATEMENT_CACHE: dict[tuple[str, str, tuple[str, ...]], tuple[str, _Processed]] = {}


def _statement(
    dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]
) -> tuple[str, _Processed]:
    """The SQL for these columns, and the columns' bind processors by position."""
    key = (dialect.name, table.name, names)
    if key not in _STATEMENT_CACHE:
        quote = dialect.identifier_preparer
        columns = ", ".join(quote.quote(name) for name in names)
        if dialect.name == "postgresql":
            sql = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
        else:
            marks = ", ".join("?" for _ in names)
            sql = f"INSERT INTO {quote.format_table(table)} ({columns}) VALUES ({marks})"
        processed = []
        for index, name in enumerate(names):
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processed.append((index, _quicker(process)))
        _STATEMENT_CACHE[key] = (sql, processed)
    return _STATEMENT_CACHE[key]


_SAMPLES = (
    date(2026, 3, 2),
    datetime.fromisoformat("2026-03-02 09:05:07"),
    datetime.fromisoformat("2026-03-02 09:05:07.000008"),
)


def _quicker(process: Any) -> Any:
    """SQLite's date and time processors as `isoformat` (C) when that gives the very
    text SQLAlchemy's gives (checked here, on samples); other values go to SQLAlchemy's."""
    try:
        day_ok = process(_SAMPLES[0]) == _SAMPLES[0].isoformat()
        time_ok = all(process(t) == t.isoformat(" ", "microseconds") for t in _SAMPLES[1:])
    except (TypeError, ValueError, AttributeError):
        return process
    if day_ok:

        def day(value: Any) -> Any:
            return value.isoformat() if type(value) is date else process(value)

        return day
    if time_ok:

        def moment(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is None:
                return value.isoformat(" ", "microseconds")
            return process(value)

        return moment
    return process


class _Record:
    """A row in memory read by attribute, as guards and effects read rows."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def replay_case(batch: Batch, history: CaseHistory) -> Replayed:
    """Run one case's acts in memory; keep its rows in the batch if all are accepted.
    A refused case leaves nothing: its rows were in memory, its ids are given back,
    and a write it made to a stored row (a savepoint's) is rolled back."""
    built = Built()
    result = _replay_case(batch, built, history)
    if built.savepoint is not None:
        if result.error is None:
            built.savepoint.commit()
        else:
            built.savepoint.rollback()
    return result


def _replay_case(batch: Batch, built: Built, history: CaseHistory) -> Replayed:
    mark = batch.ids.mark()
    try:
        case = _nominate(batch, built, history)
    except (Refusal, schema.InvalidData, access.Forbidden) as error:
        batch.ids.restore(mark)
        return Replayed(step=None, error=error)
    record = cast(Case, CaseRecord(case))
    for number, act in enumerate(history.acts):
        try:
            _advance(batch, built, record, act)
        except (Refusal, schema.InvalidData, access.Forbidden) as error:
            batch.ids.restore(mark)
            return Replayed(step=number, error=error)
    built.rows[Case][record.id or 0] = cast(CaseRecord, record).values()
    batch.keep(built)
    for key in _identities(built.rows[Person][record.person_id]):
        batch.identities[key] = record.id or 0
    return Replayed(case_id=record.id)


def _identities(person: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = [("name", person["full_name"], person["birth_date"])]
    if person.get("national_id"):
        keys.append(("id", person["national_id"]))
    return keys


def _nominate(batch: Batch, built: Built, history: CaseHistory) -> dict[str, Any]:
    engine = batch.engine
    spec = process.NOMINATE
    on = engine._act_date(history.nominated_on)
    parsed = schema.parse(spec.fields, history.nomination)
    engine._no_future_dates(spec, parsed)
    note = built.note = _note(history.note)
    access.check_may_record(history.actor, spec.acted_by)
    _STATEMENTS.insert(Person)
    person = {**_STATEMENTS.defaults[Person], **parsed["person"]}
    person["id"] = batch.ids.take(Person)
    _STATEMENTS.insert(Case)
    placeholder = cast(
        Case,
        CaseRecord(
            {
                **_STATEMENTS.defaults[Case],
                "id": None,
                "person_id": 0,
                "cell_id": parsed["cell_id"],
                "state": "nominated",
                "nominated_on": on,
            }
        ),
    )
    act = _context(batch, built, placeholder, on, parsed, history.actor, spec)
    act.person = cast(Person, _Record(person))
    for guard in spec.guards:
        problem = guard.check(act)
        if problem is not None:
            raise guard.refusal(problem)
    built.rows[Person][person["id"]] = derived(Person, person)
    cell = engine._organisation(batch.connection, parsed["cell_id"])
    assert cell is not None
    _STATEMENTS.insert(Case)
    case = {
        **_STATEMENTS.defaults[Case],
        "person_id": person["id"],
        "cell_id": parsed["cell_id"],
        "org_path": cell.path,
        "state": "nominated",
        "state_since": on,
        "nominated_by": parsed["nominated_by"],
        "nomination_ref": parsed["nomination_ref"],
        "nominated_on": on,
        "imported": True,
        "updated_at": engine.clock.now(),
        "version": 1,
    }
    case["id"] = batch.ids.take(Case)
    row = engine._history_row(case, "nominate", None, parsed, on, history.actor, note, None, True)
    case["head_hash"] = row["hash"]
    built.history.append(row)
    return case


def _advance(batch: Batch, built: Built, case: Case, act: ReplayAct) -> None:
    engine = batch.engine
    spec = process.event(act.event)
    if spec is None or spec is process.NOMINATE:
        raise schema.InvalidData(
            "event", f"Không có sự kiện '{act.event}'", f"There is no event '{act.event}'"
        )
    on = engine._act_date(act.on)
    parsed = schema.parse(spec.fields, act.data)
    engine._no_future_dates(spec, parsed)
    note = built.note  # as the nomination cleaned it: the same note, the same text
    previous = built.history[-1]["recorded_at"]
    case.version += 1
    access.check_may_record(act.actor, spec.acted_by)
    if case.state not in spec.sources:
        raise _not_allowed(spec, case.state)
    context = _context(batch, built, case, on, parsed, act.actor, spec)
    context.person = cast(Person, _Record(built.rows[Person][case.person_id]))
    from_state = case.state
    token = process.Token(case.state, context)
    moved = process.MACHINE.events[act.event].trigger(token)
    if not moved:  # the records say the vote passed: the rule says it did not
        assert context.failed_vote is not None
        raise context.failed_vote
    if token.state != from_state:
        assert case.id is not None and case.state_since is not None  # set by the nomination
        left = stays.stay(
            case.id, case.org_path, from_state, case.state_since, on, act.event, token.state
        )
        built.stays.append(left)
        case.state, case.state_since = token.state, on
    spec.effect(context)
    _deadlines(batch, built, case, engine._params_on)
    case.updated_at = engine.clock.now()
    values = case.__dict__
    row = engine._history_row(
        values, act.event, from_state, parsed, on, act.actor, note, previous, True
    )
    case.head_hash = row["hash"]
    built.history.append(row)


def _deadlines(batch: Batch, built: Built, case: Case, params: Any) -> None:
    wanted = live_deadlines(case, params)
    rows = built.rows[CaseDeadline]
    for deadline_id, (row_id, _) in list(built.deadlines.items()):
        if deadline_id not in wanted:
            del rows[row_id], built.deadlines[deadline_id]
    for deadline_id, due in wanted.items():
        if deadline_id in built.deadlines:
            row_id = built.deadlines[deadline_id][0]
            rows[row_id]["due"] = due
        else:
            row_id = batch.ids.take(CaseDeadline)
            rows[row_id] = {"id": row_id, "case_id": case.id, "deadline": deadline_id, "due": due}
        built.deadlines[deadline_id] = (row_id, due)
    case.next_due = min(wanted.values()) if wanted else None


@dataclass
class _InMemory(_Act):
    """The act's context with the case's own rows in memory (see the module)."""

    batch: Batch | None = None
    built: Built | None = None

    def member(self, member_id: int) -> Member | None:
        assert self.batch is not None and self.built is not None
        if member_id not in self._members:
            member = self.batch.member(member_id, self.built)
            if member is not None and not self._may_see(member):
                member = None
            self._members[member_id] = member
        return self._members[member_id]

    def sponsors(self) -> list[Member]:
        assert self.batch is not None and self.built is not None
        batch, built = self.batch, self.built
        found = [batch.member(s["member_id"], built) for s in built.rows[Sponsorship].values()]
        return [m for m in found if m is not None]

    def helper_ids(self) -> set[int]:
        assert self.built is not None
        return {h["member_id"] for h in self.built.rows[HelperAssignment].values()}

    def open_case_of(self, person: dict[str, Any]) -> int | None:
        assert self.batch is not None
        for key in _identities(person):
            if key in self.batch.identities:
                return self.batch.identities[key]
        return None if self.batch.looked_up else super().open_case_of(person)

    def find(self, table: type[SQLModel], **where: Any) -> Any | None:
        assert self.built is not None
        if table not in (Attendance, Sponsorship, HelperAssignment):
            return super().find(table, **where)
        for row in self.built.rows[table].values():  # the case's own rows
            if all(row.get(k) == v for k, v in where.items()):
                return _Record(row)
        return None

    @property
    def classes(self) -> enrolment.Classes:
        assert self.batch is not None and self.built is not None
        return _Classes(self.batch, self.built)

    def insert(self, table: type[SQLModel], **values: Any) -> int:
        assert self.batch is not None and self.built is not None
        _STATEMENTS.insert(table)
        row = derived(table, _STATEMENTS.defaults[table] | values)
        row["id"] = self.batch.ids.take(table)
        self.built.rows[table][row["id"]] = row
        return int(row["id"])

    def update(self, table: type[SQLModel], row_id: int, **values: Any) -> None:
        assert self.batch is not None and self.built is not None
        mine = self.built.rows[table].get(row_id) if table in WRITTEN else None
        if mine is not None:
            mine.update(derived(table, values))
            return
        if self.built.savepoint is None:
            self.built.savepoint = self.batch.connection.begin_nested()
        super().update(table, row_id, **values)


class _Classes:
    """The classes a replayed act resolves its class against (enrolment.Classes): the
    stored ones, read once per batch, and those made by this call's cases — kept in
    memory and written with the batch, so a refused case leaves no class behind."""

    def __init__(self, batch: Batch, built: Built) -> None:
        self.batch, self.built = batch, built

    def line(self, cell_id: int) -> enrolment.Line:
        if cell_id not in self.batch.lines:
            line = enrolment.line_from(self.batch.organisation, cell_id)
            if line is None:
                raise enrolment.no_cell(cell_id)
            self.batch.lines[cell_id] = line
        return self.batch.lines[cell_id]

    def _made(self) -> list[dict[str, Any]]:
        return [*self.batch.classes.values(), *self.built.rows[Course].values()]

    def _path(self, made: dict[str, Any]) -> str | None:
        holder = self.batch.organisation(made["organisation_id"])
        return None if holder is None else holder.path

    def kind_and_path(self, class_id: int) -> tuple[str, str] | None:
        made = self.built.rows[Course].get(class_id) or self.batch.classes.get(class_id)
        if made is not None:
            path = self._path(made)
            return None if path is None else (made["kind"], path)
        if class_id not in self.batch.kinds:
            stored = enrolment.Stored(self.batch.connection)
            self.batch.kinds[class_id] = stored.kind_and_path(class_id)
        return self.batch.kinds[class_id]

    def candidates(
        self, kind: str, on: date, line: enrolment.Line
    ) -> list[tuple[int, str, date, date | None, str]]:
        key = (kind, line.district_path, *line.paths.values())
        if key not in self.batch.held:
            rows = sorted(enrolment.held(self.batch.connection, kind, line), key=lambda r: r[2])
            self.batch.held[key] = ([row[2] for row in rows], rows)
        starts, rows = self.batch.held[key]
        first, last = enrolment.period(on)
        found = rows[bisect_left(starts, first) : bisect_right(starts, last)]
        for made in self._made():
            if made["kind"] != kind or not enrolment.in_period(made["starts_on"], on):
                continue
            path = self._path(made)
            if path is not None and enrolment.reachable(path, line):
                found.append((made["id"], made["name"], made["starts_on"], made["ends_on"], path))
        return found

    def create(self, values: dict[str, Any]) -> int:
        row = {**values, "id": self.batch.ids.take(Course)}
        self.built.rows[Course][row["id"]] = row
        return int(row["id"])


def _context(
    batch: Batch,
    built: Built,
    case: Case,
    on: date,
    data: dict[str, Any],
    actor: Actor,
    spec: process.Event,
) -> _InMemory:
    engine = batch.engine
    params = engine._params_on(on)
    return _InMemory(
        engine,
        batch.connection,
        case,
        None,
        on,
        data,
        params,
        actor,
        spec,
        batch=batch,
        built=built,
    )


def run(engine: Engine, connection: Connection, cases: Sequence[CaseHistory]) -> list[Replayed]:
    """Replay `cases` and write the accepted ones. The cyclic garbage collector is held
    off meanwhile: the batch's rows are many small dicts kept to the end, which it would
    scan again and again for nothing (≈ 15 % of a replay's time); it runs after."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        batch = Batch(engine, connection)
        batch.look_up_people(cases)
        results = [replay_case(batch, history) for history in cases]
        batch.write()
    finally:
        if collecting:
            gc.enable()
    return results
