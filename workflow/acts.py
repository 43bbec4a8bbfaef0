"""What one act knows and may do, shared by the engine's two ways of recording acts
(`Engine.advance` one at a time, `Engine.replay` in bulk): the case as a record, the
guards' look-ups (GuardContext) and the effects' statements (EffectContext), built
once as SQLAlchemy Core statements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam, update
from sqlmodel import Session, SQLModel, and_, col, or_, select

from workflow import access, enrolment, guards, process, schema
from workflow.access import Actor
from workflow.config import RuleParameters
from workflow.guards import Guard
from workflow.models import (
    Attendance,
    Case,
    HelperAssignment,
    Member,
    Organisation,
    Person,
    Sponsorship,
)
from workflow.refusal import Refusal
from workflow.text import Text, fold


class OrganisationSource(Protocol):
    """Where an act reads the organisation tree (the engine's cache)."""

    def _organisation(self, connection: Connection, org_id: int) -> Organisation | None: ...


def _table(model: type[SQLModel]) -> sa.Table:
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


class CaseRecord:
    """A case row in memory: one attribute per column of `Case`, nothing else. Guards
    and effects read and set it as they would a `Case`; the engine writes it once."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def values(self) -> dict[str, Any]:
        return self.__dict__


_MEMBERS = _table(Member)
_PERSONS = _table(Person)
_PERSON = sa.select(_PERSONS).where(_PERSONS.c.id == bindparam("id"))
_MEMBERS_IN = sa.select(_MEMBERS).where(_MEMBERS.c.id.in_(bindparam("ids", expanding=True)))
_SPONSORS = (
    sa.select(_MEMBERS)
    .join(_table(Sponsorship), _table(Sponsorship).c.member_id == _MEMBERS.c.id)
    .where(_table(Sponsorship).c.case_id == bindparam("case_id"))
)
_HELPER_IDS = sa.select(_table(HelperAssignment).c.member_id).where(
    _table(HelperAssignment).c.case_id == bindparam("case_id")
)


class Statements:
    """The effects' find / insert / update statements, one per table and columns."""

    def __init__(self) -> None:
        self.finds: dict[
            tuple[type[SQLModel], tuple[str, ...], tuple[str, ...]], sa.Select[Any]
        ] = {}
        self.inserts: dict[type[SQLModel], sa.Insert] = {}
        self.updates: dict[type[SQLModel], sa.Update] = {}
        self.defaults: dict[type[SQLModel], dict[str, Any]] = {}

    def find(self, model: type[SQLModel], where: dict[str, Any]) -> sa.Select[Any]:
        nulls = tuple(name for name, value in where.items() if value is None)
        key = (model, tuple(where), nulls)
        if key not in self.finds:
            table = _table(model)
            conditions = [
                table.c[name].is_(None) if name in nulls else table.c[name] == bindparam(name)
                for name in where
            ]
            self.finds[key] = sa.select(table).where(*conditions).order_by(table.c.id).limit(1)
        return self.finds[key]

    def insert(self, model: type[SQLModel]) -> sa.Insert:
        if model not in self.inserts:
            self.inserts[model] = sa.insert(_table(model))
            self.defaults[model] = {
                name: info.default
                for name, info in model.model_fields.items()
                if name != "id" and not info.is_required() and info.default_factory is None
            }
        return self.inserts[model]

    def update(self, model: type[SQLModel]) -> sa.Update:
        if model not in self.updates:
            table = _table(model)
            self.updates[model] = update(table).where(table.c.id == bindparam("row_id_"))
        return self.updates[model]


STATEMENTS = Statements()


def derived(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """Columns kept from others (what the ORM's listeners keep on the Session path):
    a person's folded name for search."""
    if model is Person and "full_name" in values:
        values["name_key"] = fold(values["full_name"] or "")
    return values


@dataclass
class Act:
    """Everything one act knows: the GuardContext and EffectContext of this call."""

    engine: OrganisationSource
    connection: Connection
    case: Case  # a CaseRecord: the Case's columns, read and set as a Case's
    _person: Person | None  # None: loaded on first use (few guards read the person)
    on: date
    data: dict[str, Any]
    params: RuleParameters
    actor: Actor
    spec: process.Event
    failed_vote: Refusal | None = None
    _members: dict[int, Member | None] = field(default_factory=dict)
    _helper_ids: set[int] | None = None  # None: read on first use (the engine's claim returns them)
    # the case's attendance, {course id: row id}, when the claim returned it: `find` of
    # an Attendance of this case then needs no statement (None: it is looked up)
    _attendance: dict[int, int] | None = None

    # ── what guards read ──────────────────────────────────────────────────
    @property
    def person(self) -> Person:
        if self._person is None:
            row = self.connection.execute(_PERSON, {"id": self.case.person_id}).first()
            assert row is not None
            self._person = cast(Person, row)
        return self._person

    @person.setter
    def person(self, value: Person) -> None:
        self._person = value

    def member(self, member_id: int) -> Member | None:
        """The member, or None when there is none the actor may see (access's reader
        rule): a guard then says "no such member in your scope", the message of a
        missing id, and never names someone out of sight."""
        if member_id not in self._members:
            # every member the act's data names, in one query: the guards then ask for
            # them one by one (the sponsors, the helpers) without another statement
            wanted = {member_id, *member_ids(self.spec.fields, self.data)} - set(self._members)
            rows = self.connection.execute(_MEMBERS_IN, {"ids": sorted(wanted)})
            found = {row.id: cast(Member, row) for row in rows}
            for wanted_id in sorted(wanted):
                member = found.get(wanted_id)
                if member is not None and not self._may_see(member):
                    member = None
                self._members[wanted_id] = member
        return self._members[member_id]

    def _may_see(self, member: Member) -> bool:
        actor = self.actor
        while actor.on_behalf_of is not None:
            actor = actor.on_behalf_of
        if actor.role == "admin":
            return True
        if actor.role != "sponsor" and actor.org_path:
            cell = self.organisation(member.cell_id)
            if cell is not None and actor.acts_for(cell.path):
                return True
        # the rest of the reader rule (links to cases the actor may read): access's own
        with Session(bind=self.connection) as session:
            return access.can_see_member(session, self.actor, member)

    def sponsors(self) -> list[Member]:
        rows = self.connection.execute(_SPONSORS, {"case_id": self.case.id})
        return [cast(Member, row) for row in rows]

    def helper_ids(self) -> set[int]:
        if self._helper_ids is None:
            self._helper_ids = set(self.connection.scalars(_HELPER_IDS, {"case_id": self.case.id}))
        return self._helper_ids

    def organisation(self, org_id: int) -> Organisation | None:
        return self.engine._organisation(self.connection, org_id)

    @property
    def classes(self) -> enrolment.Classes:
        return enrolment.Stored(self.connection)

    def parent_committee(self) -> Organisation | None:
        cell = self.organisation(self.case.cell_id)
        return self.organisation(cell.parent_id) if cell and cell.parent_id else None

    def competent_authority(self) -> Organisation | None:
        """The nearest ancestor of the case's cell that may decide admissions."""
        cell = self.organisation(self.case.cell_id)
        ancestor_ids = [int(i) for i in cell.path.strip("/").split("/")[:-1]] if cell else []
        for org_id in reversed(ancestor_ids):
            org = self.organisation(org_id)
            if org is not None and org.may_admit:
                return org
        return None

    def open_case_of(self, person: dict[str, Any]) -> int | None:
        return open_case_of(self.connection, person)

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

    # ── what effects write (effects.EffectContext) ─────────────────────────
    def find(self, table: type[SQLModel], **where: Any) -> Any | None:
        if self._attends(table, where) and self._attendance is not None:
            row_id = self._attendance.get(where["course_id"])
            return None if row_id is None else CaseRecord({"id": row_id, **where})
        statement = STATEMENTS.find(table, where)
        values = {name: value for name, value in where.items() if value is not None}
        return self.connection.execute(statement, values).first()

    def _attends(self, table: type[SQLModel], where: dict[str, Any]) -> bool:
        """An Attendance of this case, by its class: the one `find` the claim answers."""
        return (
            table is Attendance
            and set(where) == {"course_id", "case_id"}
            and where["case_id"] == self.case.id
        )

    def insert(self, table: type[SQLModel], **values: Any) -> int:
        statement = STATEMENTS.insert(table)
        row = derived(table, STATEMENTS.defaults[table] | values)
        result = self.connection.execute(statement, row)
        key = result.inserted_primary_key
        assert key is not None
        if self._attends(table, values) and self._attendance is not None:
            self._attendance[values["course_id"]] = int(key[0])
        return int(key[0])

    def update(self, table: type[SQLModel], row_id: int, **values: Any) -> None:
        statement = STATEMENTS.update(table)
        self.connection.execute(statement, {**derived(table, values), "row_id_": row_id})


def member_ids(specs: tuple[process.FieldSpec, ...], parsed: dict[str, Any]) -> Iterator[int]:
    """Every member id in parsed data (fields of type member and members, at any depth)."""
    for spec in specs:
        value = parsed.get(spec.name)
        if spec.type == "member" and isinstance(value, int):
            yield value
        elif spec.type == "members" and isinstance(value, list):
            yield from (item for item in value if isinstance(item, int))
        elif spec.type == "object" and isinstance(value, dict):
            yield from member_ids(spec.parts, value)
        elif spec.type == "list" and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from member_ids(spec.parts, item)


def open_case_of(connection: Connection, person: dict[str, Any]) -> int | None:
    same = and_(Person.full_name == person["full_name"], Person.birth_date == person["birth_date"])
    if person.get("national_id"):
        same = or_(same, Person.national_id == person["national_id"])
    query = (
        select(Case.id)
        .join(Person, col(Person.id) == Case.person_id)
        .where(Case.open, same)
        .limit(1)
    )
    found: int | None = connection.execute(query).scalar()
    return found


def note(note: Any) -> str | None:
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


def not_allowed(spec: process.Event, state: str) -> Refusal:
    current = process.state(state)
    return Refusal(
        "event_allowed",
        "PROCESS",
        f"Không thể '{spec.label_vi}' khi hồ sơ ở bước '{current.label_vi}'",
        f"'{spec.label_en}' is not possible while the case is '{current.label_en}'",
    )
