"""The enrolment form's class picker (workflow.directory.classes.pickable) on SQLite and
PostgreSQL: of each kind asked, the newest PICKER_LIMIT classes held on the cell's line
or in its district — exactly what a full sort of those classes gives — in three
statements however many classes the province holds, read in the order of the index on
(kind, starts_on, id)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event, inspect
from sqlmodel import Session, col, select

from tests.engine.conftest import Setup
from workflow.directory import classes
from workflow.models import Course, Organisation


def _org(session: Session, name: str, kind: str, parent: Organisation | None) -> Organisation:
    org = Organisation(name=name, kind=kind, parent_id=parent.id if parent else None)
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    return org


def _tree(setup: Setup) -> dict[str, Organisation]:
    """A district (a committee under the province) with two communes and a cell, and
    another district's commune; classes held all over, with ties on the first day."""
    with setup.engine.session() as session:
        province = session.exec(
            select(Organisation).where(col(Organisation.parent_id).is_(None))
        ).one()
        district = _org(session, "Huyện ủy Lục Ngạn", "committee", province)
        commune = _org(session, "Đảng ủy xã Phượng Sơn", "grassroots_committee", district)
        sibling = _org(session, "Đảng ủy xã Biển Động", "grassroots_committee", district)
        cell = _org(session, "Chi bộ thôn Chể", "cell", commune)
        other = _org(session, "Huyện ủy Sơn Động", "committee", province)
        far = _org(session, "Đảng ủy xã An Lạc", "grassroots_committee", other)
        holders = (province, district, commune, sibling, cell, other, far)
        start = date(2020, 1, 6)
        for n in range(3 * classes.PICKER_LIMIT):
            holder = holders[n % len(holders)]
            session.add(
                Course(
                    kind="awareness" if n % 3 else "theory",
                    name=f"Lớp {n:04d}",
                    organisation_id=holder.id,
                    starts_on=start + timedelta(days=n // 2),  # two classes a day
                )
            )
        session.commit()
        found = {"province": province, "district": district, "commune": commune}
        found |= {"sibling": sibling, "cell": cell, "far": far}
        for org in found.values():
            session.refresh(org)
            session.expunge(org)
        return found


def _expected(setup: Setup, tree: dict[str, Organisation], kind: str) -> list[int]:
    """The old reading: every class of the line or the district, sorted, cut."""
    line = {tree[k].path for k in ("province", "district", "commune", "cell")}
    with setup.engine.session() as session:
        rows = session.exec(
            select(Course, Organisation.path).join(
                Organisation, col(Organisation.id) == Course.organisation_id
            )
        ).all()
    kept = [
        c
        for c, path in rows
        if c.kind == kind and (path in line or path.startswith(tree["district"].path))
    ]
    kept.sort(key=lambda c: (c.starts_on, c.id), reverse=True)
    return [c.id or 0 for c in kept[: classes.PICKER_LIMIT]]


@contextmanager
def counted(setup: Setup) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    database = setup.engine.database
    event.listen(database, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database, "before_cursor_execute", record)


def test_the_picker_offers_the_newest_classes_of_the_line_and_the_district(setup: Setup) -> None:
    tree = _tree(setup)
    cell = tree["cell"].id
    assert cell is not None
    with setup.engine.session() as session, counted(setup) as statements:
        picker = classes.pickable(session, cell)
    assert len(statements) == 2 + len(classes.KINDS)
    for kind in classes.KINDS:
        offered = [c.id for c in picker.classes if c.kind == kind]
        assert offered == _expected(setup, tree, kind), kind
    assert len(picker.classes) < 2 * classes.PICKER_LIMIT + 1
    held = {c.organisation for c in picker.classes}
    assert "Đảng ủy xã An Lạc" not in held and "Huyện ủy Sơn Động" not in held
    assert {"Huyện ủy Lục Ngạn", "Đảng ủy xã Biển Động"} <= held
    # who may hold a new class: the cell and those above it, top first
    assert [o.name for o in picker.holders] == [
        "Đảng bộ tỉnh Bắc Giang",
        "Huyện ủy Lục Ngạn",
        "Đảng ủy xã Phượng Sơn",
        "Chi bộ thôn Chể",
    ]


def test_the_picker_reads_only_the_kind_a_form_asks(setup: Setup) -> None:
    tree = _tree(setup)
    assert tree["cell"].id is not None
    with setup.engine.session() as session, counted(setup) as statements:
        picker = classes.pickable(session, tree["cell"].id, ("theory",))
    assert len(statements) == 3
    assert {c.kind for c in picker.classes} == {"theory"}
    assert [c.id for c in picker.classes] == _expected(setup, tree, "theory")


def test_the_classes_are_read_in_the_order_of_an_index(setup: Setup) -> None:
    with setup.engine.session() as session:
        indexes = inspect(session.connection()).get_indexes("course")
    assert any(i["column_names"] == ["kind", "starts_on", "id"] for i in indexes), indexes


def test_a_cell_that_is_not_there_offers_nothing(setup: Setup) -> None:
    with setup.engine.session() as session:
        assert classes.pickable(session, 999_999) == classes.Picker()
