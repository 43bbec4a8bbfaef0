"""The engine as it was before its write path moved to SQLAlchemy Core (commit caef150),
kept verbatim but for its effects (tests/engine/legacy/effects.py, the ORM ones) so
that tests/engine/test_core_equivalence.py can run both side by side.

The one way a case changed: `Engine.nominate` and `Engine.advance`.

Each call is ONE transaction: claim the case's version (a conditional UPDATE, which
also takes the row's write lock), load it, run the shared Machine and its guards,
record the effects and the deadlines, append one hash-chained history row, commit.
Any failure rolls everything back; the Machine only ever moved a throw-away token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine as Database
from sqlalchemy import and_, bindparam, event, false, func, inspect, or_, update
from sqlmodel import Session, col, select

from tests.engine.legacy import effects
from workflow import access, guards, history, process, schema
from workflow.access import Actor
from workflow.clock import Clock
from workflow.config import RuleParameters
from workflow.deadlines import live_deadlines
from workflow.guards import Guard
from workflow.history import ledger
from workflow.models import (
    Case,
    CaseDeadline,
    HelperAssignment,
    HistoryEvent,
    Member,
    Organisation,
    Person,
    Sponsorship,
)
from workflow.refusal import Refusal
from workflow.text import Explained, Text


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


@dataclass
class Outcome:
    case: Case
    event: HistoryEvent
    failed_vote: Refusal | None = None

    @property
    def accepted(self) -> bool:
        return self.failed_vote is None


@dataclass
class _Act:
    """Everything one advance knows: the GuardContext and EffectContext of this call."""

    session: Session
    case: Case
    _person: Person | None  # None: loaded on first use (few guards read the person)
    on: date
    data: dict[str, Any]
    params: RuleParameters
    actor: Actor
    spec: process.Event
    failed_vote: Refusal | None = None
    _members: dict[int, Member | None] = field(default_factory=dict)

    @property
    def person(self) -> Person:
        if self._person is None:
            self._person = self.session.get(Person, self.case.person_id)
            assert self._person is not None
        return self._person

    @person.setter
    def person(self, value: Person) -> None:
        self._person = value

    def member(self, member_id: int) -> Member | None:
        """The member, or None when there is none the actor may see (access's reader
        rule): a guard then says "no such member in your scope", the message of a
        missing id, and never names someone out of sight."""
        if member_id not in self._members:
            member = self.session.get(Member, member_id)
            if member is not None and not access.can_see_member(self.session, self.actor, member):
                member = None
            self._members[member_id] = member
        return self._members[member_id]

    def sponsors(self) -> list[Member]:
        query = (
            select(Member)
            .join(Sponsorship, col(Sponsorship.member_id) == Member.id)
            .where(Sponsorship.case_id == self.case.id)
        )
        return list(self.session.exec(query))

    def helper_ids(self) -> set[int]:
        query = select(HelperAssignment.member_id).where(HelperAssignment.case_id == self.case.id)
        return set(self.session.exec(query))

    def organisation(self, org_id: int) -> Organisation | None:
        return self.session.get(Organisation, org_id)

    def parent_committee(self) -> Organisation | None:
        cell = self.session.get(Organisation, self.case.cell_id)
        return self.session.get(Organisation, cell.parent_id) if cell and cell.parent_id else None

    def competent_authority(self) -> Organisation | None:
        """The nearest ancestor of the case's cell that may decide admissions."""
        cell = self.session.get(Organisation, self.case.cell_id)
        ancestor_ids = [int(i) for i in cell.path.strip("/").split("/")[:-1]] if cell else []
        for org_id in reversed(ancestor_ids):
            org = self.session.get(Organisation, org_id)
            if org is not None and org.may_admit:
                return org
        return None

    def open_case_of(self, person: dict[str, Any]) -> int | None:
        return _open_case_of(self.session, person)

    def event_guards(self) -> tuple[Guard, ...]:
        # the event's own rules first: theirs are the more precise messages
        return (*self.spec.guards, guards.on_after_previous_step)

    def vote_guard(self) -> str | None:
        return self.spec.vote_guard

    # the process table imports the guards: they reach it through their context
    def deadline(self, deadline_id: str) -> process.Deadline:
        return process.deadline(deadline_id)

    def current_state(self) -> process.State:
        return process.state(self.case.state)

    def record_failed_vote(self, refusal: Refusal) -> None:
        self.failed_vote = refusal


@dataclass
class _NewCase:
    """A case nominated inside the caller's unit of work. No other transaction can see
    it before the caller commits, so its version and stored deadlines are known here:
    advancing it needs neither the claiming UPDATE nor the deadline look-up. The strong
    references also keep the case and person in the session's (weak) identity map."""

    case: Case
    person: Person
    deadlines: dict[str, CaseDeadline] = field(default_factory=dict)
    last_recorded: datetime | None = None  # its newest history row's recorded_at


_NEW_CASES = "ketnap.cases_new_in_unit_of_work"


def _new_cases(session: Session) -> dict[int, _NewCase]:
    registry: dict[int, _NewCase] | None = session.info.get(_NEW_CASES)
    if registry is None:
        registry = session.info[_NEW_CASES] = {}
        # once committed others may write these cases; after a rollback they are gone
        event.listen(session, "after_commit", _forget_new_cases)
        event.listen(session, "after_rollback", _forget_new_cases)
    return registry


def _forget_new_cases(session: Session) -> None:
    session.info.get(_NEW_CASES, {}).clear()


def _serialise_nominations(session: Session, person: dict[str, Any]) -> None:
    """`one_open_case` reads before the nomination writes: two nominations of one person
    at once (a double click) would both find no open case. Take a write lock first, held
    to the commit: per person on PostgreSQL (advisory locks on each identity the rule
    matches, in order), the database's one write lock on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(Case).where(false()).values(version=Case.version))
        return
    identities = [f"name:{person['full_name']}|{person['birth_date']}"]
    if person.get("national_id"):
        identities.append(f"id:{person['national_id']}")
    for key in sorted(_lock_key(identity) for identity in identities):
        session.execute(select(func.pg_advisory_xact_lock(key)))


def _lock_key(identity: str) -> int:
    return int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big", signed=True)


def _open_case_of(session: Session, person: dict[str, Any]) -> int | None:
    same = and_(Person.full_name == person["full_name"], Person.birth_date == person["birth_date"])
    if person.get("national_id"):
        same = or_(same, Person.national_id == person["national_id"])
    query = (
        select(Case.id)
        .join(Person, col(Person.id) == Case.person_id)
        .where(Case.open, same)
        .limit(1)
    )
    return session.exec(query).first()


# The statements of every advance, built once: building them per call cost more than
# running them (SQLAlchemy caches the compiled SQL, not the Python statement objects).
_CLAIM = (
    update(Case)
    .where(col(Case.id) == bindparam("case_id"), col(Case.version) == bindparam("expected"))
    .values(version=col(Case.version) + 1)
)
_CLAIM_RETURNING = _CLAIM.returning(Case)
_PREVIOUS_RECORDED = select(HistoryEvent.recorded_at).where(
    col(HistoryEvent.case_id) == bindparam("case_id"), col(HistoryEvent.seq) == bindparam("seq")
)
_STORED_DEADLINES = select(CaseDeadline).where(col(CaseDeadline.case_id) == bindparam("case_id"))


class Engine:
    def __init__(self, database: Database, params: RuleParameters, clock: Clock) -> None:
        self.database, self.params, self.clock = database, params, clock
        # Where acts come from when not the web: "cli:<os user>" (set by the CLI).
        self.via: str | None = None

    def session(self) -> Session:
        return Session(self.database, expire_on_commit=False)

    @contextmanager
    def _transaction(self, outer: Session | None) -> Iterator[Session]:
        """One call's transaction, or the caller's unit of work when it passes `session`.

        With an outer session the engine flushes but never commits nor rolls back: the
        caller owns the transaction (the importer replays a row inside one SAVEPOINT and
        commits rows in batches). After an exception the caller must roll back.
        """
        if outer is not None:
            yield outer
            return
        with self.session() as session:
            yield session
            session.commit()

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
        outer = session
        with self._transaction(outer) as session:
            access.check_may_record(actor, spec.acted_by)
            placeholder = Case(
                person_id=0, cell_id=parsed["cell_id"], state="nominated", nominated_on=on_date
            )
            act = _Act(
                session,
                placeholder,
                Person(**parsed["person"]),
                on_date,
                parsed,
                self.params,
                actor,
                spec,
            )
            _serialise_nominations(session, parsed["person"])
            for guard in spec.guards:
                problem = guard.check(act)
                if problem is not None:
                    raise guard.refusal(problem)
            person = Person(**parsed["person"])
            session.add(person)
            session.flush()
            cell = session.get(Organisation, parsed["cell_id"])
            assert cell is not None and person.id is not None
            case = Case(
                person_id=person.id,
                cell_id=parsed["cell_id"],
                org_path=cell.path,
                state="nominated",
                state_since=on_date,
                nominated_by=parsed["nominated_by"],
                nomination_ref=parsed["nomination_ref"],
                nominated_on=on_date,
                imported=imported,
                updated_at=self.clock.now(),
            )
            session.add(case)
            session.flush()
            if outer is not None:
                assert case.id is not None
                _new_cases(session)[case.id] = _NewCase(case, person)
            row = self._append(
                session,
                case,
                "nominate",
                None,
                parsed,
                on_date,
                actor,
                note,
                outcome="imported" if imported else "accepted",
            )
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
        with self._transaction(session) as session:
            case = self._claim(session, case_id, expected_version, actor)
            access.check_may_record(actor, spec.acted_by)
            if case.state not in spec.sources:
                raise _not_allowed(spec, case.state)
            act = _Act(session, case, None, on_date, parsed, self.params, actor, spec)
            from_state = case.state
            token = process.Token(case.state, act)
            moved = process.MACHINE.events[event].trigger(token)
            if moved:
                if token.state != from_state:
                    case.state, case.state_since = token.state, on_date
                getattr(effects, spec.effect.__name__)(act)
            elif event == "cell_confirm_vote":
                effects.failed_confirm_vote(act)
            self._store_deadlines(session, case)
            case.updated_at = self.clock.now()
            row = self._append(
                session,
                case,
                event,
                from_state,
                parsed,
                on_date,
                actor,
                note,
                outcome=("imported" if imported else "accepted") if moved else "failed_vote",
            )
            return Outcome(case, row, act.failed_vote)

    # ── the parts of one transaction ──────────────────────────────────────
    def _claim(self, session: Session, case_id: int, expected: int, actor: Actor) -> Case:
        """Take the next version first: the UPDATE locks the row, so racers queue here."""
        fresh: _NewCase | None = session.info.get(_NEW_CASES, {}).get(case_id)
        if fresh is not None:  # nobody else can see it yet: check the version in memory
            if not access.can_see(session, actor, fresh.case):
                raise NotFound(case_id)
            if fresh.case.version != expected:
                raise Conflict(case_id, expected, fresh.case.version)
            fresh.case.version += 1
            return fresh.case
        values = {"case_id": case_id, "expected": expected}
        if session.get_bind().dialect.update_returning:
            # One round trip: the claimed row comes back with the UPDATE (and replaces
            # any copy already in the session); no row back means stale or missing.
            claimed: Case | None = session.execute(
                _CLAIM_RETURNING,
                values,
                execution_options={"synchronize_session": False, "populate_existing": True},
            ).scalar_one_or_none()
            if claimed is not None:
                if not access.can_see(session, actor, claimed):
                    raise NotFound(case_id)
                return claimed
            case = session.get(Case, case_id)
            if case is None or not access.can_see(session, actor, case):
                raise NotFound(case_id)
            raise Conflict(case_id, expected, case.version)
        result = session.execute(_CLAIM, values)
        case = session.get(Case, case_id, populate_existing=True)
        if case is None or not access.can_see(session, actor, case):
            raise NotFound(case_id)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(case_id, expected, case.version)
        return case

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

    def _store_deadlines(self, session: Session, case: Case) -> None:
        wanted = live_deadlines(case, self.params)
        assert case.id is not None
        fresh = session.info.get(_NEW_CASES, {}).get(case.id)
        stored = fresh.deadlines if fresh is not None else self._stored_deadlines(session, case.id)
        for deadline_id, row in list(stored.items()):
            if deadline_id not in wanted:
                if inspect(row).pending:  # added earlier in this unit of work, never flushed
                    session.expunge(row)
                else:
                    session.delete(row)
                del stored[deadline_id]
            elif row.due != wanted[deadline_id]:
                row.due = wanted[deadline_id]
                session.add(row)
        for deadline_id, due in wanted.items():
            if deadline_id not in stored:
                stored[deadline_id] = CaseDeadline(case_id=case.id, deadline=deadline_id, due=due)
                session.add(stored[deadline_id])
        case.next_due = min(wanted.values()) if wanted else None

    @staticmethod
    def _stored_deadlines(session: Session, case_id: int) -> dict[str, CaseDeadline]:
        # No autoflush: the case's pending changes then go out in the commit's one UPDATE
        # instead of an extra one here (only this method writes CaseDeadline rows).
        with session.no_autoflush:
            return {d.deadline: d for d in session.scalars(_STORED_DEADLINES, {"case_id": case_id})}

    def _append(
        self,
        session: Session,
        case: Case,
        event: str,
        from_state: str | None,
        data: dict[str, Any],
        on: date,
        actor: Actor,
        note: str | None,
        outcome: str = "accepted",
    ) -> HistoryEvent:
        assert case.id is not None
        if event == "nominate":
            case.version = 1
        recorded_at = self._recorded_at(session, case)
        row = history.seal(
            HistoryEvent(
                case_id=case.id,
                seq=case.version,
                event=event,
                outcome=outcome,
                from_state=from_state,
                to_state=case.state,
                on=on,
                recorded_at=recorded_at,
                actor=actor.username,
                data=history.canonical_data(schema.to_json(data)),
                note=note,
                prev_hash=case.head_hash or history.GENESIS,
                hash="",
                via=self.via,
            )
        )
        case.head_hash = row.hash
        session.add(case)
        session.add(row)
        fresh = session.info.get(_NEW_CASES, {}).get(case.id)
        if fresh is not None:
            fresh.last_recorded = recorded_at
        # last: on PostgreSQL the ledger's lock is then held only until the commit
        ledger.append(session, row)
        return row

    def _recorded_at(self, session: Session, case: Case) -> datetime:
        """The clock's time, but never before the case's previous row's."""
        now = self.clock.now()
        if case.version <= 1:
            return now
        fresh = session.info.get(_NEW_CASES, {}).get(case.id)
        if fresh is not None:
            return ledger.stamp(fresh.last_recorded, now)
        with session.no_autoflush:
            previous = session.scalar(
                _PREVIOUS_RECORDED, {"case_id": case.id, "seq": case.version - 1}
            )
        return ledger.stamp(previous, now)

    # ── reading ───────────────────────────────────────────────────────────
    def case_for(self, session: Session, case_id: int, actor: Actor) -> Case:
        case = session.get(Case, case_id)
        if case is None or not access.can_see(session, actor, case):
            raise NotFound(case_id)
        return case

    def count_cases(self, session: Session) -> int:
        return session.exec(select(func.count()).select_from(Case)).one()


def _note(note: Any) -> str | None:
    if note is None or note == "":
        return None
    if not isinstance(note, str):
        raise schema.InvalidData("note", "Ghi chú phải là chuỗi ký tự", "The note must be text")
    note = note.strip()
    if not note:
        return None  # a note of blanks is no note
    return schema.clean_text(
        note, "note", Text("Ghi chú", "The note"), multiline=True, longest=4000
    )


def _not_allowed(spec: process.Event, state: str) -> Refusal:
    current = process.state(state)
    return Refusal(
        "event_allowed",
        "PROCESS",
        f"Không thể '{spec.label_vi}' khi hồ sơ ở bước '{current.label_vi}'",
        f"'{spec.label_en}' is not possible while the case is '{current.label_en}'",
    )
