"""The import of party members: each row checked (status, admission and official dates,
birth date and gender together or neither), the same member twice in the file or
already in Ketnap (same cell, name and admission date, or national id) rejected, and
the accepted rows added a batch at a time. Members are records, not cases: nothing is
replayed through the engine: each is written, and logged in the admin log as
"import_member" by the importing user, through the same path as the directory's
add_member action (workflow/directory/members.py)."""

from __future__ import annotations

from dataclasses import dataclass
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
        status = row.text("status", required=True)
        joined = row.day("joined_on", required=True)
        official = row.day("official_since")
        birth = row.day("birth_date")
        gender = row.text("gender")
        national_id = row.text("national_id")
        if status is not None and status not in ("official", "probationary"):
            row.problem(
                "status",
                f"'{status}' phải là official hoặc probationary",
                f"'{status}' must be official or probationary",
            )
        if status == "probationary" and official is not None:
            row.problem(
                "official_since",
                "Đảng viên dự bị chưa có ngày chính thức",
                "A probationary member has no official date",
            )
        if birth and joined and birth >= joined:
            row.problem(
                "birth_date", "Ngày sinh không trước ngày vào Đảng", "Born after joining the Party"
            )
        if gender is not None and gender not in ("female", "male"):
            row.problem(
                "gender",
                f"'{gender}' phải là female hoặc male",
                f"'{gender}' must be female or male",
            )
        if (birth is None) != (gender is None) and not row.errors:
            row.problem(
                "gender" if gender is None else "birth_date",
                "Ghi cả ngày sinh và giới tính, hoặc bỏ trống cả hai",
                "Give both the birth date and the gender, or neither",
            )
        if row.errors:
            return None
        assert cell is not None and cell.id is not None and full_name and joined and status
        fields = {
            "full_name": full_name,
            "cell_id": cell.id,
            "status": status,
            "joined_on": joined.isoformat(),
            "official_since": official.isoformat() if official else None,
        }
        try:  # the directory's own member rules, as `ketnap`'s admin pages apply them
            parsed = members.valid(fields, self.engine.clock.today())
        except InvalidData as problem:
            column = COLUMNS.get(problem.field, problem.field)
            row.problem(column, problem.message_vi, problem.message_en)
            return None
        person = (
            Person(full_name=full_name, birth_date=birth, gender=gender, national_id=national_id)
            if birth and gender
            else None
        )
        member = members.new_member(parsed)
        keys: list[tuple[Any, ...]] = [("member", cell.id, full_name.casefold(), joined)]
        if national_id:
            keys.append(("id", national_id))
        return MemberPlan(row.line, member, person, tuple(keys), cell.path)

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
        added = [(p.member, p.org_path) for p in plans]
        members.log_added(
            self.session, self.actor, added, at=self.engine.clock.now(), action="import_member"
        )
        self.report.accepted += len(plans)
        if not self.report.dry_run:
            self.report.created_ids += [p.member.id for p in plans if p.member.id is not None]
            self.report.written += len(plans)
        self.finish_batch()
