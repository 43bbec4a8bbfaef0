"""classes: merge the classes the engine duplicated per commune

Until now an enrolment found or created its class by (kind, name, the cell's parent
organisation): one district class attended by candidates of many communes became one
class per commune, none of them the district's recorded class, and report 4 counted
each. Enrolments now resolve the class once (workflow/enrolment.py). This migration
merges the classes already duplicated: same kind, same name (spaces collapsed, case
folded), same first day, held within one district's subtree. The class kept is the
one with a recorded headcount (a group with two headcounts is two real classes and is
left alone, as is one whose last days disagree), else the one held highest; it is
owned by the nearest organisation above all of the group's, and every attendance
moves to it (a case attending two of the copies attends the merged class once).

Revision ID: 0009_classes
Revises: 0008_tasks
Create Date: 2026-11-29 22:40:00
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009_classes"
down_revision = "0008_tasks"
branch_labels = None
depends_on = None

organisation = sa.table(
    "organisation", sa.column("id"), sa.column("path"), sa.column("kind")
)
course = sa.table(
    "course",
    sa.column("id"),
    sa.column("kind"),
    sa.column("name"),
    sa.column("issuer"),
    sa.column("organisation_id"),
    sa.column("starts_on"),
    sa.column("ends_on"),
)
headcount = sa.table("courseheadcount", sa.column("course_id"))
attendance = sa.table("attendance", sa.column("id"), sa.column("course_id"), sa.column("case_id"))


def _ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def _district(path: str, kinds: dict[int, str]) -> int:
    """The deepest committee on the path (the organisation itself included)."""
    ids = _ids(path)
    committees = [i for i in ids if kinds.get(i) == "committee"]
    return committees[-1] if committees else ids[0]


def _common_ancestor(paths: list[str]) -> int:
    chains = [_ids(p) for p in paths]
    common = 0
    for level in zip(*chains, strict=False):
        if len(set(level)) != 1:
            break
        common = level[0]
    return common


def _groups(connection: sa.Connection) -> list[list[Any]]:
    orgs = connection.execute(sa.select(organisation.c.id, organisation.c.path, organisation.c.kind)).all()
    paths = {o.id: o.path for o in orgs}
    kinds = {o.id: o.kind for o in orgs}
    counted = set(connection.execute(sa.select(headcount.c.course_id)).scalars())
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for row in connection.execute(sa.select(course)).all():
        path = paths.get(row.organisation_id)
        if path is None:
            continue
        key = (
            _district(path, kinds),
            row.kind,
            " ".join(row.name.split()).casefold(),
            str(row.starts_on),
        )
        groups[key].append((row, path, row.id in counted))
    return [g for g in groups.values() if len(g) > 1]


def _merge(connection: sa.Connection, group: list[Any]) -> None:
    if sum(1 for _, _, counted in group if counted) > 1:
        return
    last_days = {str(row.ends_on) for row, _, _ in group if row.ends_on is not None}
    if len(last_days) > 1:
        return
    group.sort(key=lambda g: (not g[2], g[1].count("/"), g[0].id))
    kept = group[0][0]
    owner = _common_ancestor([path for _, path, _ in group])
    ends_on = next((row.ends_on for row, _, _ in group if row.ends_on is not None), None)
    issuer = kept.issuer or next((row.issuer for row, _, _ in group if row.issuer), "")
    connection.execute(
        course.update()
        .where(course.c.id == kept.id)
        .values(organisation_id=owner or kept.organisation_id, ends_on=ends_on, issuer=issuer)
    )
    attending = set(
        connection.execute(
            sa.select(attendance.c.case_id).where(attendance.c.course_id == kept.id)
        ).scalars()
    )
    for row, _, _ in group[1:]:
        for attendance_id, case_id in connection.execute(
            sa.select(attendance.c.id, attendance.c.case_id).where(
                attendance.c.course_id == row.id
            )
        ).all():
            if case_id in attending:
                connection.execute(attendance.delete().where(attendance.c.id == attendance_id))
            else:
                connection.execute(
                    attendance.update()
                    .where(attendance.c.id == attendance_id)
                    .values(course_id=kept.id)
                )
                attending.add(case_id)
        connection.execute(course.delete().where(course.c.id == row.id))


def upgrade() -> None:
    connection = op.get_bind()
    for group in _groups(connection):
        _merge(connection, group)


def downgrade() -> None:
    """Merged classes stay merged: which copy an attendance sat in was the defect."""
