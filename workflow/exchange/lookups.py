"""The organisations and members an import file names, by id or by exact name, within
the importing user's scope: loaded once per import and held, since every row and every
replayed step asks for them."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from workflow import hygiene
from workflow.access import Actor
from workflow.documents.case_facts import Organisations
from workflow.exchange.rows import Row
from workflow.models import Member, Organisation

CELL_KINDS = ("cell", "grassroots_cell")


class Directory:
    """Organisations and members, loaded once per import and held: the session's
    identity map is weak, and the engine asks for them at every step."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self.organisations = Organisations(session)
        self._by_name: dict[str, list[Organisation]] = {}
        for org in self.organisations.by_id.values():
            self._by_name.setdefault(org.name.casefold(), []).append(org)
        self.members: dict[int, Member] = {}
        self._members_by_name: dict[tuple[int, str], list[Member]] = {}
        self._loaded_cells: set[int] = set()

    def find(self, ref: str, cells_only: bool) -> list[Organisation]:
        """Organisations in the actor's scope with this id or this exact name."""
        number = hygiene.whole_number(ref)
        if number is not None:
            org = self.organisations.by_id.get(number)
            found = [org] if org is not None else []
        else:
            found = self._by_name.get(ref.casefold(), [])
        return [
            o
            for o in found
            if self.actor.acts_for(o.path) and (not cells_only or o.kind in CELL_KINDS)
        ]

    def organisation(self, row: Row, column: str, cells_only: bool) -> Organisation | None:
        ref = row.text(column, required=True)
        if ref is None:
            return None
        found = self.find(ref, cells_only)
        what_vi, what_en = ("chi bộ", "cell") if cells_only else ("tổ chức", "organisation")
        if not found:
            row.problem(
                column,
                f"Không có {what_vi} '{ref}' trong phạm vi của bạn",
                f"There is no {what_en} '{ref}' in your scope",
            )
            return None
        if len(found) > 1:
            ids = ", ".join(str(o.id) for o in found)
            row.problem(
                column,
                f"Có nhiều {what_vi} tên '{ref}' (số {ids}): hãy ghi số",
                f"Several {what_en}s are named '{ref}' (ids {ids}): give the id",
            )
            return None
        return found[0]

    def acting_for(self, cell: Organisation, acted_by: str) -> Organisation:
        """The organisation that records a kind of step for a cell: the cell itself, its
        committee, or the competent authority. An importer may transcribe only the acts
        of organisations in their own subtree (an admin: any)."""
        committee = self.organisations.get(cell.parent_id)
        if acted_by == "committee":
            return committee or cell
        if acted_by == "authority":
            return self.organisations.authority_of(cell) or committee or cell
        return cell

    def load_members(self, cell_ids: set[int], member_ids: set[int]) -> None:
        """Members of these cells and these ids, once per import."""
        new_cells = cell_ids - self._loaded_cells
        wanted = {i for i in member_ids if i not in self.members}
        if not new_cells and not wanted:
            return
        query = select(Member).where(
            or_(col(Member.cell_id).in_(new_cells), col(Member.id).in_(wanted))
        )
        for member in self.session.exec(query):
            assert member.id is not None
            if member.id in self.members:
                continue
            self.members[member.id] = member
            key = (member.cell_id, member.full_name.casefold())
            self._members_by_name.setdefault(key, []).append(member)
        self._loaded_cells |= new_cells

    def member(self, row: Row, column: str, cell: Organisation) -> int | None:
        """The member a column names (an id, or a full name in the case's cell)."""
        if column not in row.resolved:
            row.resolved[column] = self._member(row, column, cell)
        return row.resolved[column]

    def _member(self, row: Row, column: str, cell: Organisation) -> int | None:
        ref = row.text(column)
        if ref is None:
            return None
        number = hygiene.whole_number(ref)
        if number is not None:
            if number not in self.members:
                row.problem(column, f"Không có đảng viên số {ref}", f"There is no member {ref}")
                return None
            return number
        assert cell.id is not None
        found = self._members_by_name.get((cell.id, ref.casefold()), [])
        if len(found) != 1:
            if found:
                ids = ", ".join(str(m.id) for m in found)
                row.problem(
                    column,
                    f"Chi bộ có nhiều đảng viên tên '{ref}' (số {ids}): hãy ghi số",
                    f"Several members of the cell are named '{ref}' (ids {ids}): give the id",
                )
            else:
                row.problem(
                    column,
                    f"{cell.name} không có đảng viên tên '{ref}'",
                    f"{cell.name} has no member named '{ref}'",
                )
            return None
        return found[0].id
