"""The import of party members: each row checked (status, admission and official dates,
birth date and gender together or neither), the same member twice in the file or
already in Ketnap (same cell, name and admission date, or national id) rejected, and
the accepted rows added a batch at a time. Each row is judged by the directory's one
member rule (members.valid: statuses, dates, particulars), its choices given as codes or
labels ("Dự bị", "Nữ"). Members are records, not cases: nothing is replayed through the
engine: each is written, and logged in the admin log as "import_member" by the
importing user, through the same path as the directory's add_member action
(workflow/directory/members.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import col, select

from workflow.directory import members
from workflow.exchange.job import ImportJob
from workflow.exchange.report import RowError
from workflow.exchange.rows import Row
from workflow.models import Member, Person
from workflow.schema import InvalidData
from workflow.text import Text

COLUMNS = {"cell_id": "cell"}  # a field of the member action → the file's column


def member_fields(row: Row, fields: dict[str, Any], today: date) -> dict[str, Any] | None:
    """The row's member checked by the directory's one member rule (members.valid, as
    the admin pages, the CLI and the API apply it); None, with the row's problem, if not."""
    data = {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()}
    try:
        return members.valid(data, today, new=True)
    except InvalidData as problem:
        column = COLUMNS.get(problem.field, problem.field)
        row.problem(column, problem.message_vi, problem.message_en)
        return None


def member_keys(
    cell_id: int, full_name: str, joined: date | None, national_id: str | None
) -> tuple[tuple[Any, ...], ...]:
    """How a member already in Ketnap (or earlier in the file) is recognised."""
    keys: list[tuple[Any, ...]] = [("member", cell_id, full_name.casefold(), joined)]
    if national_id:
        keys.append(("id", national_id))
    return tuple(keys)


@dataclass
class MemberPlan:
    line: int
    member: Member
    person: Person | None
    keys: tuple[tuple[Any, ...], ...]
    org_path: str


class MemberImport(ImportJob):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.known: dict[tuple[Any, ...], int] = {}
        self.cells_read: set[int] = set()

    def plan(self, rows: list[Row]) -> list[MemberPlan]:
        plans = []
        for row in rows:
            plan = self._plan(row)
            if plan is None or self.duplicate_in_file(row, plan.keys, ("đảng viên", "member")):
                self.reject(row.errors)
                continue
            for key in plan.keys:
                self.seen[key] = row.line
            plans.append(plan)
        existing = self._existing(plans)
        kept = []
        for plan in plans:
            member_id = next((existing[k] for k in plan.keys if k in existing), None)
            if member_id is None:
                kept.append(plan)
            else:
                self.reject(
                    [
                        RowError(
                            plan.line,
                            None,
                            Text(
                                f"Đảng viên này đã có trong Ketnap (số {member_id})",
                                f"This member is already in Ketnap (member {member_id})",
                            ),
                            "duplicate",
                        )
                    ]
                )
        return kept

    def _plan(self, row: Row) -> MemberPlan | None:
        cell = self.directory.organisation(row, "cell", cells_only=True)
        full_name = row.text("full_name", required=True)
        fields = {
            "full_name": full_name,
            "status": row.choice("status", required=True),
            "joined_on": row.day("joined_on"),  # whether needed: members.valid says
            "official_since": row.day("official_since"),
            "birth_date": row.day("birth_date"),
            "gender": row.choice("gender"),
            "national_id": row.text("national_id"),
        }
        if row.errors:
            return None
        assert cell is not None and cell.id is not None and full_name
        parsed = member_fields(row, fields | {"cell_id": cell.id}, self.today)
        if parsed is None:
            return None
        keys = member_keys(cell.id, full_name, parsed["joined_on"], parsed["national_id"])
        member = members.new_member(parsed)
        return MemberPlan(row.line, member, members.new_person(parsed), keys, cell.path)

    def _existing(self, plans: list[MemberPlan]) -> dict[tuple[Any, ...], int]:
        """Members already in Ketnap under the same keys; each cell is read once."""
        cells = {p.member.cell_id for p in plans} - self.cells_read
        if cells:
            for member in self.session.exec(select(Member).where(col(Member.cell_id).in_(cells))):
                assert member.id is not None
                key = ("member", member.cell_id, member.full_name.casefold(), member.joined_on)
                self.known.setdefault(key, member.id)
            self.cells_read |= cells
        found = dict(self.known)
        ids = [k[1] for p in plans for k in p.keys if k[0] == "id"]
        if ids:
            rows = self.session.exec(
                select(Person.national_id, Member.id)
                .join(Member, col(Member.person_id) == Person.id)
                .where(col(Person.national_id).in_(ids))
            )
            for national_id, member_id in rows:
                if member_id is not None:
                    found.setdefault(("id", national_id), member_id)
        return found

    def write(self, plans: list[MemberPlan]) -> None:
        self.begin_batch()
        persons = [p.person for p in plans if p.person is not None]
        self.session.add_all(persons)
        self.session.flush()
        for plan in plans:
            if plan.person is not None:
                plan.member.person_id = plan.person.id
        self.session.add_all([p.member for p in plans])
        self.session.flush()
        added = [(p.member, p.person, p.org_path) for p in plans]
        members.log_added(
            self.session, self.actor, added, at=self.engine.clock.now(), action="import_member"
        )
        self.report.accepted += len(plans)
        if not self.report.dry_run:
            self.report.created_ids += [p.member.id for p in plans if p.member.id is not None]
            self.report.written += len(plans)
        self.finish_batch()
