"""Finding an organisation by name, as the transfer's picker and the API ask: "chi bo
thon 3", "CHI BỘ THÔN 3" and "Chi bộ thôn 3" find "Chi bộ thôn 3" alike (workflow/text.py
`fold`), each shown with the organisation above it ("Chi bộ thôn 3 (Đảng ủy xã Đông Lỗ)"),
since many communes have a "Chi bộ thôn 3". A number ("12", "#12") finds that one.

`resolve` turns what a person typed in an organisation field into one organisation, or
says why it cannot: none by that name, or several (each named with its number and the
organisation above it, so the person can type "#12").

Names are folded in Python over the organisations the asker may name (their id, name,
kind and parent's name only): a province's tree has about a thousand cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from workflow import access, hygiene
from workflow.access import Actor
from workflow.models import Organisation
from workflow.schema import InvalidData
from workflow.text import fold

LIMIT = 20  # the most a picker lists: more means "type more of the name"
CELL_KINDS = ("cell", "grassroots_cell")
KINDS = {"cell": CELL_KINDS, "committee": ("committee", "grassroots_committee")}


@dataclass(frozen=True)
class Found:
    id: int
    name: str
    kind: str
    parent_id: int | None
    parent_name: str
    path: str
    may_admit: bool = False

    @property
    def label(self) -> str:
        """The name with the organisation above it: what a picker shows and fills in."""
        return f"{self.name} ({self.parent_name})" if self.parent_name else self.name


def nameable(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of the organisations `actor` may name in a form: every one for
    the roles that record a cell's acts (a transfer may go to any cell of the tree:
    guards.receiving_cell) and the admin; the actor's own scope for any other role."""
    if actor.role == "admin" or actor.role in access.RECORDERS["cell"]:
        return true()
    return access.visible_organisations(actor)


def find(
    session: Session,
    actor: Actor,
    text: str,
    *,
    kinds: tuple[str, ...] = CELL_KINDS,
    limit: int = LIMIT,
) -> list[Found]:
    """The nameable organisations of `kinds` whose folded name (or name with the one
    above it) holds every folded word of `text`, or whose number it is: exact names
    first, then by name."""
    number = hygiene.asked_id(text)
    words = fold(text).split()
    if not words:
        return []
    parent = aliased(Organisation)
    query = (
        select(
            col(Organisation.id),
            col(Organisation.name),
            col(Organisation.kind),
            col(Organisation.parent_id),
            col(parent.name),
            col(Organisation.path),
            col(Organisation.may_admit),
        )
        .outerjoin(parent, col(parent.id) == Organisation.parent_id)
        .where(nameable(actor))
    )
    if kinds:
        query = query.where(col(Organisation.kind).in_(kinds))
    hits = []
    for org_id, name, kind, parent_id, parent_name, path, may_admit in session.execute(query):
        found = Found(int(org_id), name, kind, parent_id, parent_name or "", path, may_admit)
        folded = fold(found.label)
        if found.id == number or all(word in folded for word in words):
            hits.append(found)
    needle = " ".join(words)
    hits.sort(key=lambda f: (not _exact(f, needle, number), fold(f.name), fold(f.label), f.id))
    return hits[:limit]


def _exact(found: Found, needle: str, number: int | None) -> bool:
    return found.id == number or needle in (fold(found.name), fold(found.label))


def resolve(
    session: Session,
    actor: Actor,
    text: str,
    field: str,
    *,
    kinds: tuple[str, ...] = CELL_KINDS,
    prefer: int | None = None,
) -> int:
    """The one organisation `text` names (a name, a name with the one above it as the
    picker fills it in, or a number "12" / "#12"), else InvalidData naming `field`: none
    by that name among those the actor may name, or several. `prefer`, the organisation
    a picker chose, settles a name several share."""
    hits = find(session, actor, text, kinds=kinds, limit=LIMIT + 1)
    needle, number = fold(text), hygiene.asked_id(text)
    exact = [f for f in hits if _exact(f, needle, number)]
    chosen = exact if exact else hits
    if prefer is not None and any(f.id == prefer for f in chosen):
        return prefer
    if len(chosen) == 1:
        return chosen[0].id
    shown = hygiene.one_line(text)[:60]
    what_vi, what_en = ("chi bộ", "cell") if kinds == CELL_KINDS else ("tổ chức", "organisation")
    if not chosen:
        raise InvalidData(
            field,
            f"Không tìm thấy {what_vi} nào tên “{shown}”",
            f"No {what_en} named “{shown}”",
        )
    listed = "; ".join(f"{f.label} (#{f.id})" for f in chosen[:5])
    more = "…" if len(chosen) > 5 else ""
    count_vi = str(len(chosen)) if len(chosen) <= LIMIT else "nhiều"
    count_en = str(len(chosen)) if len(chosen) <= LIMIT else "Many"
    raise InvalidData(
        field,
        f"Có {count_vi} {what_vi} khớp với “{shown}”: {listed}{more}. Hãy chọn trong danh "
        f"sách gợi ý, hoặc nhập số của {what_vi} (ví dụ #{chosen[0].id})",
        f"{count_en} {what_en}s match “{shown}”: {listed}{more}. Pick one from the "
        f"suggestions, or type the {what_en}'s number (e.g. #{chosen[0].id})",
    )
