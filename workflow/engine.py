"""The one way a case changes: `Engine.nominate` and `Engine.advance`.

Each call is ONE transaction: claim the case's version (a conditional UPDATE, which
also takes the row's write lock, and RETURNING the case with what the act needs — its
stored deadlines, its previous row's time, its person, helpers and class attendance,
the ledger's head on SQLite), run the shared Machine and its guards, run the effect's
statements, write the case row and the changed deadlines, append one hash-chained
history row, its ledger entry and the stay it ends, commit. Any failure rolls
everything back; the Machine only ever moved a throw-away token.

The write path is SQLAlchemy Core: statements built once (SQLAlchemy caches their
compiled SQL), rows as plain records, no ORM unit of work. The organisation tree is
read from a per-engine cache: the directory actions call `forget_organisations`, and
the claim returns the admin log's newest id, so a change made by another process (every
directory action logs) is seen at the next act.

What an advance writes after its effect goes out as few statements as the dialect
allows (bench/FINDINGS.md, "Statements per advance"): on PostgreSQL the ledger's lock,
then ONE statement of data-modifying CTEs; on SQLite, which has no such CTEs, one
statement per table, the deadlines' changes in one upsert — workflow/writes.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam, false, func, update
from sqlalchemy import Engine as Database
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel, select

from workflow import access, effects, guards, process, replay, resubmission, schema, stays, writes
from workflow.access import Actor
from workflow.acts import (
    STATEMENTS,
    Act,
    CaseRecord,
    _table,
    not_allowed,
    open_case_of,
)
from workflow.acts import note as _note
from workflow.clock import Clock
from workflow.config import RuleParameters
from workflow.deadlines import live_deadlines
from workflow.history import chain, ledger
from workflow.models import (
    AdminLogEntry,
    Attendance,
    Case,
    CaseDeadline,
    HelperAssignment,
    HistoryEvent,
    Organisation,
    Person,
)
from workflow.refusal import Refusal
from workflow.rules import RuleBook, RuleSource, in_force
from workflow.text import Explained, Text

_Act = Act  # the name the rest of this module (and its readers) know
_STATEMENTS = STATEMENTS
_not_allowed = not_allowed
_open_case_of = open_case_of


class Conflict(Explained):
    """Another write came first (HTTP 409): reload the case and try again."""

    def __init__(self, case_id: int, expected: int, actual: int) -> None:
        super().__init__(
            Text(
                f"Hồ sơ đã được người khác cập nhật (phiên bản {actual}, bạn đang "
                f"xem phiên bản {expected}); hãy tải lại trang",
                f"Someone else updated this case (version {actual}, you saw {expected}); reload it",
            )
        )
        self.case_id, self.expected, self.actual = case_id, expected, actual

    def __str__(self) -> str:
        return f"case {self.case_id} is at version {self.actual}, not {self.expected}"


class NotFound(Exception):
    """No such case, or not in the actor's scope (HTTP 404: existence does not leak)."""


_CASES = _table(Case)
_CASE_COLUMNS = tuple(column.name for column in _CASES.columns)


def _build(model: type[SQLModel], values: dict[str, Any]) -> Any:
    """A detached ORM object with these column values (what callers of Outcome read)."""
    obj = model(**values)
    make_transient_to_detached(obj)
    return obj


class Outcome:
    """What an act did: the case as it now is, its history row, and a failed vote if
    the vote guard failed. The ORM objects are built on first use: the write path
    itself has only records."""

    def __init__(
        self,
        case: dict[str, Any],
        event: dict[str, Any],
        failed_vote: Refusal | None = None,
        repeated: bool = False,
    ) -> None:
        self._case_values, self._event_values = case, event
        self._case: Case | None = None
        self._event: HistoryEvent | None = None
        self.failed_vote = failed_vote
        self.repeated = repeated  # the same act sent again: the first one's result

    @property
    def case(self) -> Case:
        if self._case is None:
            self._case = _build(Case, self._case_values)
        return self._case

    @property
    def event(self) -> HistoryEvent:
        if self._event is None:
            self._event = _build(HistoryEvent, self._event_values)
        return self._event

    @property
    def accepted(self) -> bool:
        return self.failed_vote is None


# ── the statements of every act, built once ──────────────────────────────
_ORGANISATIONS = _table(Organisation)
_DEADLINES = _table(CaseDeadline)
_HISTORY = _table(HistoryEvent)
_HELPERS = _table(HelperAssignment)
_ATTENDANCE = _table(Attendance)
_PERSONS = _table(Person)
_PERSON_COLUMNS = tuple(name for name in _PERSONS.columns.keys() if name != "id")  # noqa: SIM118

_ORGANISATION_ROWS = sa.select(_ORGANISATIONS)
_DIRECTORY_MARK = sa.select(func.max(_table(AdminLogEntry).c.id)).scalar_subquery()
_CASE_STATE = sa.select(_CASES.c.version, _CASES.c.org_path, _CASES.c.id).where(
    _CASES.c.id == bindparam("case_id")
)
_WRITE_LOCK = update(_CASES).where(false()).values(version=_CASES.c.version)


def _claim_statement(dialect: str) -> sa.Update:
    """UPDATE the version where it is the expected one, RETURNING the case, its stored
    deadlines, its previous row's time, the directory's mark and (SQLite, where this
    statement takes the database's one write lock) the ledger's head."""
    d = _DEADLINES.c
    entry = sa.cast(d.id, sa.String) + ":" + d.deadline + ":" + sa.cast(d.due, sa.String)
    aggregate = func.string_agg if dialect == "postgresql" else func.group_concat
    stored = sa.select(aggregate(entry, ",")).where(d.case_id == bindparam("case_id"))
    previous = sa.select(_HISTORY.c.recorded_at).where(
        _HISTORY.c.case_id == bindparam("case_id"), _HISTORY.c.seq == bindparam("expected")
    )
    h = _HELPERS.c
    helpers = sa.select(aggregate(sa.cast(h.member_id, sa.String), ",")).where(
        h.case_id == bindparam("case_id")
    )
    a = _ATTENDANCE.c
    attended = sa.select(
        aggregate(sa.cast(a.course_id, sa.String) + ":" + sa.cast(a.id, sa.String), ",")
    ).where(a.case_id == bindparam("case_id"))
    extra: list[Any] = [
        stored.scalar_subquery().label("stored_deadlines_"),
        attended.scalar_subquery().label("attendance_"),
        previous.scalar_subquery().label("previous_recorded_"),
        _DIRECTORY_MARK.label("directory_mark_"),
        helpers.scalar_subquery().label("helper_ids_"),
        *_person_columns(),
    ]
    if dialect != "postgresql":
        extra.append(ledger.HEAD_TEXT.scalar_subquery().label("ledger_head_"))
    return (
        update(_CASES)
        .where(_CASES.c.id == bindparam("case_id"), _CASES.c.version == bindparam("expected"))
        .values(version=_CASES.c.version + 1)
        .returning(*_CASES.columns, *extra)
    )


def _person_columns() -> list[Any]:
    """The case's person, a scalar subquery per column (few guards read the person, but
    the claim reads it for the price of an index lookup, instead of a statement)."""
    of_case = _CASES.alias("of_case")
    person_id = (
        sa.select(of_case.c.person_id).where(of_case.c.id == bindparam("case_id")).scalar_subquery()
    )
    return [
        sa.select(column)
        .where(_PERSONS.c.id == person_id)
        .scalar_subquery()
        .label(f"person__{name}")
        for name, column in _PERSONS.columns.items()
        if name in _PERSON_COLUMNS
    ]


_CLAIMS: dict[str, sa.Update] = {}


def _claim_for(dialect: str) -> sa.Update:
    if dialect not in _CLAIMS:
        _CLAIMS[dialect] = _claim_statement(dialect)
    return _CLAIMS[dialect]


def _serialise_nominations(connection: Connection, person: dict[str, Any]) -> None:
    """`one_open_case` reads before the nomination writes: two nominations of one person
    at once (a double click) would both find no open case. Take a write lock first, held
    to the commit: per person on PostgreSQL (advisory locks on each identity the rule
    matches, in order), the database's one write lock on SQLite."""
    if connection.dialect.name != "postgresql":
        connection.execute(_WRITE_LOCK)
        return
    identities = [f"name:{person['full_name']}|{person['birth_date']}"]
    if person.get("national_id"):
        identities.append(f"id:{person['national_id']}")
    for key in sorted(_lock_key(identity) for identity in identities):
        connection.execute(select(func.pg_advisory_xact_lock(key)))


def _lock_key(identity: str) -> int:
    return int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big", signed=True)


@dataclass
class _Claimed:
    """The claimed case and what the claim returned beside it."""

    case: Case
    stored: dict[str, tuple[int, date]]  # deadline id → (row id, due)
    previous_recorded: datetime | None
    ledger_head: str | ledger.Unread | None
    person: Person
    helper_ids: set[int]
    attendance: dict[int, int]  # course id → attendance row id


def _pairs(text: str | None) -> dict[int, int]:
    """ "<key>:<value>,…" as the claim's aggregates return them, as {key: value}."""
    pairs = (entry.split(":") for entry in text.split(",")) if text else ()
    return {int(key): int(value) for key, value in pairs}


def _stored_deadlines(text: str | None) -> dict[str, tuple[int, date]]:
    stored: dict[str, tuple[int, date]] = {}
    for entry in text.split(",") if text else ():
        row_id, deadline_id, due = entry.split(":")
        stored[deadline_id] = (int(row_id), date.fromisoformat(due[:10]))
    return stored


class Engine:
    def __init__(self, database: Database, params: RuleParameters | RuleBook, clock: Clock) -> None:
        self.database, self.params, self.clock = database, params, clock
        # Where acts come from when not the web: "cli:<os user>" (set by the CLI).
        self.via: str | None = None
        self._organisations: dict[int, Any] | None = None
        self._directory_mark: Any = None

    def session(self) -> Session:
        return Session(self.database, expire_on_commit=False)

    def _params_on(self, on: date) -> RuleParameters:
        """The rule parameters in force on `on` (DESIGN.md principle 7): an act is judged
        by the set in force on its date, a deadline by the set in force on its anchor.
        `params` is a book of dated sets, or one set in force always (tests, benches)."""
        return in_force(self.params, on)

    # ── the organisation tree, cached ─────────────────────────────────────
    def forget_organisations(self) -> None:
        """Drop the cached tree: a directory action changed it."""
        self._organisations = None

    def _organisation(self, connection: Connection, org_id: int) -> Organisation | None:
        if self._organisations is None or org_id not in self._organisations:
            # a miss reloads too: an organisation added since the tree was read
            rows = connection.execute(_ORGANISATION_ROWS)
            self._organisations = {row.id: row for row in rows}
        return cast(Organisation | None, self._organisations.get(org_id))

    def _directory_seen(self, mark: Any) -> None:
        """The admin log's newest id at this act: any directory action since the tree
        was read (in any process) moved it."""
        if mark != self._directory_mark:
            self._organisations = None
            self._directory_mark = mark

    @contextmanager
    def _connection(self, outer: Session | None) -> Iterator[Connection]:
        """One call's transaction, or the caller's unit of work when it passes `session`.

        With an outer session the engine runs its statements on the session's connection
        and never commits nor rolls back: the caller owns the transaction (the importer
        replays a row inside one SAVEPOINT and commits rows in batches). After an
        exception the caller must roll back.
        """
        if outer is not None:
            outer.flush()  # rows the caller added are seen by the engine's statements
            yield outer.connection()
            return
        with self.database.begin() as connection:
            yield connection

    # ── a new case ────────────────────────────────────────────────────────
    def nominate(
        self,
        data: dict[str, Any],
        actor: Actor,
        *,
        on: Any,
        note: str | None = None,
        session: Session | None = None,
        imported: bool = False,
    ) -> Outcome:
        spec = process.NOMINATE
        on_date = self._act_date(on)
        parsed = schema.parse(spec.fields, data)
        self._no_future_dates(spec, parsed)
        note = _note(note)
        params = self._params_on(on_date)
        with self._connection(session) as connection:
            access.check_may_record(actor, spec.acted_by)
            placeholder = Case(
                person_id=0, cell_id=parsed["cell_id"], state="nominated", nominated_on=on_date
            )
            act = _Act(
                self,
                connection,
                placeholder,
                Person(**parsed["person"]),
                on_date,
                parsed,
                params,
                actor,
                spec,
            )
            _serialise_nominations(connection, parsed["person"])
            self._directory_seen(connection.execute(sa.select(_DIRECTORY_MARK)).scalar())
            for guard in spec.guards:
                problem = guard.check(act)
                if problem is not None and guard is guards.one_open_case:  # a double tap?
                    first = resubmission.earlier_nomination(
                        connection,
                        guard.refusal(problem, params, on_date),
                        act.open_case_of(parsed["person"]),
                        actor,
                        parsed,
                        on_date,
                        note,
                    )
                    return _repeated(first)
                if problem is not None:
                    raise guard.refusal(problem, params, on_date)
            person_values = Person(**parsed["person"]).model_dump(exclude={"id"})
            person_id = act.insert(Person, **person_values)
            cell = self._organisation(connection, parsed["cell_id"])
            assert cell is not None
            case = Case(
                person_id=person_id,
                cell_id=parsed["cell_id"],
                org_path=cell.path,
                state="nominated",
                state_since=on_date,
                nominated_by=parsed["nominated_by"],
                nomination_ref=parsed["nomination_ref"],
                nominated_on=on_date,
                imported=imported,
                updated_at=self.clock.now(),
                version=1,
            ).model_dump(exclude={"id"})
            case["id"] = act.insert(Case, **case)
            row = self._history_row(
                case, "nominate", None, parsed, on_date, actor, note, None, imported
            )
            case["head_hash"] = row["hash"]
            connection.execute(
                writes.CASE_UPDATE, {"head_hash": row["hash"], "case_id_": case["id"]}
            )
            writes.write_history(connection, row, ledger.UNREAD)
            return Outcome(case, row)

    # ── every later step ──────────────────────────────────────────────────
    def advance(
        self,
        case_id: int,
        event: str,
        data: dict[str, Any] | None,
        actor: Actor,
        expected_version: int,
        *,
        on: Any,
        note: str | None = None,
        session: Session | None = None,
        imported: bool = False,
    ) -> Outcome:
        """Record `event` on the case. `imported`: a historical act transcribed by an
        import; its history row's outcome is "imported" instead of "accepted"."""
        spec = process.event(event)
        if spec is None or spec is process.NOMINATE:
            raise schema.InvalidData(
                "event", f"Không có sự kiện '{event}'", f"There is no event '{event}'"
            )
        on_date = self._act_date(on)
        parsed = schema.parse(spec.fields, data if data is not None else {})
        self._no_future_dates(spec, parsed)
        note = _note(note)
        with self._connection(session) as connection:
            try:
                claimed = self._claim(connection, case_id, expected_version, actor)
            except Conflict as conflict:  # unless this very act moved it: a double tap
                first = resubmission.earlier_act(
                    connection,
                    conflict,
                    case_id,
                    expected_version,
                    actor,
                    event,
                    parsed,
                    on_date,
                    note,
                )
                return _repeated(first)
            case = claimed.case
            access.check_may_record(actor, spec.acted_by)
            if case.state not in spec.sources:
                raise _not_allowed(spec, case.state)
            params = self._params_on(on_date)
            act = _Act(
                self,
                connection,
                case,
                claimed.person,
                on_date,
                parsed,
                params,
                actor,
                spec,
                _helper_ids=claimed.helper_ids,
                _attendance=claimed.attendance,
            )
            from_state, entered_on = case.state, case.state_since
            token = process.Token(case.state, act)
            moved = process.MACHINE.events[event].trigger(token)
            if moved:
                if token.state != from_state:
                    case.state, case.state_since = token.state, on_date
                spec.effect(act)
            elif event == "cell_confirm_vote":
                effects.failed_confirm_vote(act)
            deadlines = self._deadline_changes(case, claimed.stored, self._params_on)
            case.updated_at = self.clock.now()
            values = cast(CaseRecord, case).values()
            outcome = ("imported" if imported else "accepted") if moved else "failed_vote"
            row = self._history_row(
                values,
                event,
                from_state,
                parsed,
                on_date,
                actor,
                note,
                claimed.previous_recorded,
                imported,
                outcome,
            )
            case.head_hash = row["hash"]
            stay = None
            if case.state != from_state and entered_on is not None:
                stay = stays.stay(
                    case_id, case.org_path, from_state, entered_on, on_date, event, case.state
                )
            if connection.dialect.name == "postgresql":
                writes.at_once(connection, values, row, stay, deadlines)
            else:
                writes.one_by_one(connection, values, row, stay, deadlines, claimed.ledger_head)
            return Outcome(dict(values), row, act.failed_vote)

    # ── history in bulk ───────────────────────────────────────────────────
    def replay(
        self, cases: Sequence[replay.CaseHistory], *, session: Session | None = None
    ) -> list[replay.Replayed]:
        """Replay many cases' history (an import): each case exactly as `nominate` and
        one `advance` per act would record it — same parsing, guards, effects,
        deadlines and hash chain — computed in memory, the accepted cases written
        together in one batch per table (workflow/replay.py). A refused act rejects its
        case only: `Replayed.error` says which act and why; a failed vote is refused
        (the records say it passed). With `session`, inside the caller's transaction."""
        with self._connection(session) as connection:
            if connection.dialect.name != "postgresql":
                connection.execute(_WRITE_LOCK)  # the ids taken from max(id) stay ours
            self._directory_seen(connection.execute(sa.select(_DIRECTORY_MARK)).scalar())
            return replay.run(self, connection, cases)

    # ── the parts of one transaction ──────────────────────────────────────
    def _claim(self, connection: Connection, case_id: int, expected: int, actor: Actor) -> _Claimed:
        """Take the next version first: the UPDATE locks the row, so racers queue here."""
        dialect = connection.dialect.name
        values = {"case_id": case_id, "expected": expected}
        row = connection.execute(_claim_for(dialect), values).first()
        if row is None:  # stale or missing
            current = connection.execute(_CASE_STATE, {"case_id": case_id}).first()
            if current is None or not self._may_see(connection, actor, current):
                raise NotFound(case_id)
            raise Conflict(case_id, expected, current.version)
        mapping = row._mapping
        case = CaseRecord({name: mapping[name] for name in _CASE_COLUMNS})
        if not self._may_see(connection, actor, case):
            raise NotFound(case_id)
        self._directory_seen(mapping["directory_mark_"])
        person = {name: mapping[f"person__{name}"] for name in _PERSON_COLUMNS}
        helpers = mapping["helper_ids_"]
        return _Claimed(
            cast(Case, case),
            _stored_deadlines(mapping["stored_deadlines_"]),
            mapping["previous_recorded_"],
            mapping["ledger_head_"] if dialect != "postgresql" else ledger.UNREAD,
            cast(Person, CaseRecord({"id": mapping["person_id"], **person})),
            {int(member_id) for member_id in helpers.split(",")} if helpers else set(),
            _pairs(mapping["attendance_"]),
        )

    @staticmethod
    def _may_see(connection: Connection, actor: Actor, case: Any) -> bool:
        if actor.role != "sponsor":  # access.can_see reads nothing for these roles
            return actor.role == "admin" or actor.acts_for(case.org_path)
        with Session(bind=connection) as session:
            return access.can_see(session, actor, case)

    def _act_date(self, on: Any) -> date:
        on_date = schema.parse_date(on, "on")
        today = self.clock.today()
        if on_date > today:
            raise Refusal(
                "on_not_in_future",
                "PROCESS",
                f"Ngày {on_date:%d/%m/%Y} ở tương lai; hôm nay là {today:%d/%m/%Y}",
                f"{on_date:%d/%m/%Y} is in the future; today is {today:%d/%m/%Y}",
                "on",
            )
        return on_date

    def _no_future_dates(self, spec: process.Event, parsed: dict[str, Any]) -> None:
        """No date in the data lies in the future either: a birth, a receipt, a resolution."""
        today = self.clock.today()
        for name, field_spec, day in schema.dates(spec.fields, parsed):
            if day > today:
                raise Refusal(
                    "on_not_in_future",
                    "PROCESS",
                    f"{field_spec.label_vi}: ngày {day:%d/%m/%Y} ở tương lai; "
                    f"hôm nay là {today:%d/%m/%Y}",
                    f"{field_spec.label_en}: {day:%d/%m/%Y} is in the future; "
                    f"today is {today:%d/%m/%Y}",
                    name,
                )

    @staticmethod
    def _deadline_changes(
        case: Case, stored: dict[str, tuple[int, date]], params: RuleSource
    ) -> writes.DeadlineChanges:
        """What to write between the stored deadlines and the live ones; sets next_due."""
        wanted = live_deadlines(case, params)
        case.next_due = min(wanted.values()) if wanted else None
        assert case.id is not None
        return writes.DeadlineChanges(
            case.id,
            [
                (row_id, deadline_id, wanted[deadline_id])
                for deadline_id, (row_id, due) in stored.items()
                if deadline_id in wanted and due != wanted[deadline_id]
            ],
            [(d, due) for d, due in wanted.items() if d not in stored],
            [row_id for d, (row_id, _) in stored.items() if d not in wanted],
        )

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
    ) -> dict[str, Any]:
        """The sealed history row of this act, as column values."""
        now = self.clock.now()
        row = {
            "case_id": case["id"],
            "seq": case["version"],
            "event": event,
            "outcome": outcome or ("imported" if imported else "accepted"),
            "from_state": from_state,
            "to_state": case["state"],
            "on": on,
            # the clock's time, but never before the case's previous row's
            "recorded_at": ledger.stamp(previous_recorded, now) if case["version"] > 1 else now,
            "actor": actor.username,
            "data": chain.canonical_data(schema.to_json(data)),
            "note": note,
            "prev_hash": case["head_hash"] or chain.GENESIS,
            "hash": "",
            "via": self.via,
        }
        row["hash"] = chain.hash_values(row)
        return row

    # ── reading ───────────────────────────────────────────────────────────
    def case_for(self, session: Session, case_id: int, actor: Actor) -> Case:
        case = session.get(Case, case_id)
        if case is None or not access.can_see(session, actor, case):
            raise NotFound(case_id)
        return case

    def count_cases(self, session: Session) -> int:
        return session.exec(select(func.count()).select_from(Case)).one()


def _repeated(first: resubmission.Earlier) -> Outcome:
    """The answer to an act sent again: the first sending's (nothing was written)."""
    return Outcome(dict(first.case), dict(first.row), first.failed_vote, repeated=True)
