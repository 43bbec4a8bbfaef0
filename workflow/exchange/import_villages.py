"""The import of members by village: one sheet for a district's villages. Each row is a
person of a village — a party member (a status and a cell), a village head or deputy
with their term (an office), or both — and the village is found at its organisation
(by name, whatever the case and diacritics) or created there.

Every row is judged by the directory's own rules — the member by `members.valid`, the
village by `villages.valid_village`, the term by `villages.valid_official` — as the
pages, the CLI and the API judge them; a member already in Ketnap (same cell, name and
admission date, or national id), or a term already recorded, is a duplicate. Accepted
rows are written a batch at a time through the directory's write paths, each record
logged by the importing user ("import_village", "import_member", "import_official")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select

from workflow.directory import members, villages
from workflow.exchange.import_members import MemberImport, MemberPlan, member_fields, member_keys
from workflow.exchange.report import RowError
from workflow.exchange.rows import Row
from workflow.models import Organisation, Village, VillageOfficial
from workflow.schema import InvalidData
from workflow.text import Text, fold

OFFICE_COLUMNS = {"role": "office", "starts_on": "office_starts_on", "ends_on": "office_ends_on"}


@dataclass
class VillagePlan:
    line: int
    organisation: Organisation
    village: dict[str, Any]  # checked by villages.valid_village
    member: MemberPlan | None
    official: dict[str, Any] | None  # checked by villages.valid_official
    keys: tuple[tuple[Any, ...], ...]


class VillageImport(MemberImport):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.villages: dict[tuple[int, str], Village] = {}  # (organisation, folded name)
        self.organisations_read: set[int] = set()

    def plan(self, rows: list[Row]) -> list[VillagePlan]:  # type: ignore[override]
        plans = []
        for row in rows:
            plan = self._plan_row(row)
            if plan is None or self.duplicate_in_file(row, plan.keys, ("người", "person")):
                self.reject(row.errors)
                continue
            for key in plan.keys:
                self.seen[key] = row.line
            plans.append(plan)
        return self._new_ones(plans)

    def _plan_row(self, row: Row) -> VillagePlan | None:
        organisation = self.directory.organisation(row, "organisation", cells_only=False)
        name = row.text("village", required=True)
        full_name = row.text("full_name", required=True)
        status, office = row.choice("status"), row.choice("office")
        if status is None and office is None and not row.errors:
            row.problem(
                "status",
                "Dòng không ghi là đảng viên (cột status) hay giữ chức danh ở thôn (cột"
                " office): không có gì để nhập",
                "The row gives neither a party member's status nor an office in the"
                " village: nothing to import",
            )
        if row.errors:
            return None
        assert organisation is not None and organisation.id is not None and name and full_name
        village = self._checked(
            row, {"organisation_id": organisation.id, "name": name}, villages.valid_village, {}
        )
        member = self._member(row, full_name, status) if status else None
        official = self._official(row, full_name, office, member) if office else None
        if row.errors or village is None:
            return None
        keys = member.keys if member else ()
        if official is not None:
            keys += (_office_key(organisation.id, name, official),)
        return VillagePlan(row.line, organisation, village, member, official, keys)

    def _checked(
        self, row: Row, data: dict[str, Any], rule: Any, columns: dict[str, str]
    ) -> dict[str, Any] | None:
        try:
            return rule(data, self.today)  # type: ignore[no-any-return]
        except InvalidData as problem:
            column = columns.get(problem.field, problem.field)
            row.problem(column, problem.message_vi, problem.message_en)
            return None

    def _member(self, row: Row, full_name: str, status: str) -> MemberPlan | None:
        cell = self.directory.organisation(row, "cell", cells_only=True)
        fields = {
            "full_name": full_name,
            "status": status,
            "joined_on": row.day("joined_on"),
            "official_since": row.day("official_since"),
            "birth_date": row.day("birth_date"),
            "gender": row.choice("gender"),
            "national_id": row.text("national_id"),
        }
        if cell is None or row.errors:
            return None
        assert cell.id is not None
        parsed = member_fields(row, fields | {"cell_id": cell.id}, self.today)
        if parsed is None:
            return None
        keys = member_keys(cell.id, full_name, parsed["joined_on"], parsed["national_id"])
        member = members.new_member(parsed)
        return MemberPlan(row.line, member, members.new_person(parsed), keys, cell.path)

    def _official(
        self, row: Row, full_name: str, office: str, member: MemberPlan | None
    ) -> dict[str, Any] | None:
        data = {
            "role": office,
            "full_name": full_name,
            "starts_on": _iso(row.day("office_starts_on")),
            "ends_on": _iso(row.day("office_ends_on")),
            "party_member_since": _iso(member.member.joined_on) if member else None,
        }
        if row.errors:
            return None
        present = {k: v for k, v in data.items() if v is not None}
        return self._checked(row, present, villages.valid_official, OFFICE_COLUMNS)

    # ── against what Ketnap holds ────────────────────────────────────────
    def _new_ones(self, plans: list[VillagePlan]) -> list[VillagePlan]:
        """Plans whose member and term are not in Ketnap yet; villages read once."""
        self._read_villages({p.organisation.id for p in plans if p.organisation.id})
        existing = self._existing([p.member for p in plans if p.member is not None])
        kept = []
        for plan in plans:
            member_id = next(
                (existing[k] for k in (plan.member.keys if plan.member else ()) if k in existing),
                None,
            )
            if member_id is not None:
                self._duplicate(
                    plan.line,
                    Text(
                        f"Đảng viên này đã có trong Ketnap (số {member_id})",
                        f"This member is already in Ketnap (member {member_id})",
                    ),
                )
            elif plan.official is not None and self._office_recorded(plan):
                self._duplicate(
                    plan.line,
                    Text(
                        "Nhiệm kỳ này đã có trong Ketnap (cùng thôn, chức danh, người, ngày bắt"
                        " đầu)",
                        "This term is already in Ketnap (same village, office, person and"
                        " first day)",
                    ),
                )
            else:
                kept.append(plan)
        return kept

    def _duplicate(self, line: int, text: Text) -> None:
        self.reject([RowError(line, None, text, "duplicate")])

    def _read_villages(self, organisation_ids: set[int]) -> None:
        new = organisation_ids - self.organisations_read
        if not new:
            return
        query = select(Village).where(col(Village.organisation_id).in_(new))
        for village in self.session.exec(query):
            self.villages.setdefault((village.organisation_id, fold(village.name)), village)
        self.organisations_read |= new

    def _office_recorded(self, plan: VillagePlan) -> bool:
        village = self.villages.get((plan.village["organisation_id"], fold(plan.village["name"])))
        if village is None or village.id is None:
            return False
        official = plan.official
        assert official is not None
        found = self.session.exec(
            select(VillageOfficial.id).where(
                VillageOfficial.village_id == village.id,
                VillageOfficial.role == official["role"],
                VillageOfficial.full_name == official["full_name"],
                VillageOfficial.starts_on == official["starts_on"],
            )
        ).first()
        return found is not None

    # ── writing ──────────────────────────────────────────────────────────
    def write(self, plans: list[VillagePlan]) -> None:  # type: ignore[override]
        self.begin_batch()
        now = self.engine.clock.now()
        created_members: list[int] = []
        created_villages: list[tuple[int, str]] = []
        with self.session.no_autoflush:  # each record flushes itself: not at every query
            for plan in plans:
                self._write(plan, created_villages, created_members, now)
        self.report.accepted += len(plans)
        if not self.report.dry_run:
            self.report.created_ids += created_members
            self.report.written += len(plans)
        self.finish_batch()
        if self.report.dry_run:  # rolled back: the villages this batch created are gone
            for key in created_villages:
                self.villages.pop(key, None)

    def _write(
        self,
        plan: VillagePlan,
        created_villages: list[tuple[int, str]],
        created_members: list[int],
        now: datetime,
    ) -> None:
        village = self._village(plan, created_villages)
        member_id = self._write_member(plan.member) if plan.member else None
        if member_id is not None:
            created_members.append(member_id)
        if plan.official is not None:
            villages.new_official(
                self.session,
                self.actor,
                village,
                plan.organisation,
                plan.official | {"member_id": member_id},
                now=now,
                action="import_official",
            )

    def _village(self, plan: VillagePlan, created: list[tuple[int, str]]) -> Village:
        key = (plan.village["organisation_id"], fold(plan.village["name"]))
        village = self.villages.get(key)
        if village is None:
            village = villages.new_village(
                self.session,
                self.actor,
                plan.village,
                now=self.engine.clock.now(),
                action="import_village",
            )
            self.villages[key] = village
            created.append(key)
        return village

    def _write_member(self, plan: MemberPlan) -> int:
        if plan.person is not None:
            self.session.add(plan.person)
            self.session.flush()
            plan.member.person_id = plan.person.id
        self.session.add(plan.member)
        self.session.flush()
        members.log_added(
            self.session,
            self.actor,
            [(plan.member, plan.person, plan.org_path)],
            at=self.engine.clock.now(),
            action="import_member",
        )
        assert plan.member.id is not None
        return plan.member.id


def _office_key(organisation_id: int, village: str, official: dict[str, Any]) -> tuple[Any, ...]:
    return (
        "office",
        organisation_id,
        fold(village),
        official["role"],
        fold(official["full_name"]),
        official["starts_on"],
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
