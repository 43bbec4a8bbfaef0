"""Finding a member by name, as the pickers of the forms and the API ask: "nguyen van",
"NGUYỄN VĂN" and "Nguyễn Văn" find "Nguyễn Văn An" alike (workflow/text.py `fold`),
and never a member the asker may not see (access.visible_members).

`resolve` turns what a person typed in a member field into one member, or says why it
cannot: nobody by that name, or several (each named with their number, so the person
can type "#12" when two members share a name).

Names are folded in Python over the asker's visible members (their id, name, cell and
status only): a scope is a cell, a committee or a district, a few thousand members at
most. An indexed folded column on `member`, like `person.name_key`, would move the
comparison into SQL for a national scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from workflow import access, hygiene
from workflow.access import Actor
from workflow.models import Member, Organisation
from workflow.schema import InvalidData
from workflow.text import fold

LIMIT = 20  # the most a picker lists: more means "type more of the name"


@dataclass(frozen=True)
class Found:
    id: int
    full_name: str
    status: str
    cell_id: int
    cell_name: str


def find(
    session: Session,
    actor: Actor,
    text: str,
    *,
    cell_id: int | None = None,
    limit: int = LIMIT,
    with_removed: bool = False,
) -> list[Found]:
    """The visible members whose folded name holds the folded `text` (or whose number
    it is: "12", "#12"), exact names first, then those of `cell_id`, then by name."""
    number = hygiene.asked_id(text)
    needle = fold(text)
    if not needle:
        return []
    query = (
        select(
            col(Member.id),
            col(Member.full_name),
            col(Member.status),
            col(Member.cell_id),
            col(Organisation.name),
        )
        .join(Organisation, col(Organisation.id) == Member.cell_id)
        .where(access.visible_members(actor))
    )
    if not with_removed:
        query = query.where(col(Member.status) != "removed")
    hits = [
        Found(int(m_id), name, status, int(cell), cell_name)
        for m_id, name, status, cell, cell_name in session.execute(query)
        if m_id == number or needle in fold(name)
    ]
    hits.sort(
        key=lambda f: (fold(f.full_name) != needle, f.cell_id != cell_id, fold(f.full_name), f.id)
    )
    return hits[:limit]


def resolve(
    session: Session,
    actor: Actor,
    text: str,
    field: str,
    *,
    cell_id: int | None = None,
    prefer: int | None = None,
) -> int:
    """The one member `text` names (a name, or a number "12" / "#12"), else InvalidData
    naming `field`: nobody by that name in the actor's sight, or several. `prefer`, the
    member a picker chose, settles a name several members share."""
    hits = find(session, actor, text, cell_id=cell_id, limit=LIMIT + 1)
    number = hygiene.asked_id(text)
    exact = [f for f in hits if f.id == number or fold(f.full_name) == fold(text)]
    chosen = exact if exact else hits
    if prefer is not None and any(f.id == prefer for f in chosen):
        return prefer
    if len(chosen) == 1:
        return chosen[0].id
    shown = hygiene.one_line(text)[:60]
    if not chosen:
        raise InvalidData(
            field,
            f"Không tìm thấy đảng viên nào tên “{shown}” trong phạm vi của bạn",
            f"No member named “{shown}” within your scope",
        )
    listed = "; ".join(f"{f.full_name} (#{f.id}, {f.cell_name})" for f in chosen[:5])
    more = "…" if len(chosen) > 5 else ""
    raise InvalidData(
        field,
        f"Có {len(chosen) if len(chosen) <= LIMIT else 'nhiều'} đảng viên khớp với “{shown}”: "
        f"{listed}{more}. Hãy chọn trong danh sách gợi ý, hoặc nhập số đảng viên (ví dụ #{chosen[0].id})",
        f"{len(chosen) if len(chosen) <= LIMIT else 'Many'} members match “{shown}”: "
        f"{listed}{more}. Pick one from the suggestions, or type the member's number "
        f"(e.g. #{chosen[0].id})",
    )
