"""The migrations build exactly the models' schema: upgrading an empty database leaves
Alembic's autogenerate nothing to add, drop or change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.engine.conftest import sqlite_url
from tests.support.postgres import temporary_database
from workflow import db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with temporary_database() as url:
        yield url


def test_upgrade_of_an_empty_database_gives_exactly_the_models_schema(empty_database: str) -> None:
    database = db.connect(empty_database)
    try:
        assert not db.is_initialised(database)
        db.migrate(database)
        with database.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, db.metadata()) == []
        tables = set(inspect(database).get_table_names()) - {"alembic_version"}
        assert tables == set(db.metadata().tables)
    finally:
        database.dispose()


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    database = db.connect(sqlite_url(tmp_path))
    try:
        db.migrate(database)
        db.migrate(database)
        with database.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata()) == []
    finally:
        database.dispose()


def test_the_search_migration_folds_the_names_already_recorded(empty_database: str) -> None:
    from alembic import command
    from sqlalchemy import text

    database = db.connect(empty_database)
    try:
        config = db.alembic_config(database)
        with database.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002_admin_log")
        with database.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO person (full_name, birth_date, gender, ethnicity, occupation,"
                    " youth_union_member, trade_union_member)"
                    " VALUES ('Nguyễn Thị Ánh', '2000-01-01', 'female', 'Kinh', 'farmer',"
                    " false, false)"
                )
            )
        db.migrate(database)
        with database.connect() as connection:
            keys = connection.execute(text("SELECT name_key FROM person")).scalars().all()
        assert keys == ["nguyen thi anh"]
    finally:
        database.dispose()


def test_the_classes_migration_merges_one_district_class_copied_per_commune(
    empty_database: str,
) -> None:
    """Before 0007 each commune's enrolments made their own copy of the district's class:
    the copies merge into the recorded class (owned by the district), their attendance
    follows, a case in two copies attends once; a class of another date, a look-alike
    in another district, and two classes with their own headcounts stay apart."""
    from datetime import date

    from alembic import command
    from sqlalchemy import insert, select, text

    from workflow.models import Attendance, Case, Course, CourseHeadcount, Organisation, Person

    database = db.connect(empty_database)
    try:
        config = db.alembic_config(database)
        with database.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006_imports")
        with database.begin() as connection:
            orgs = {}
            for key, name, kind, parent in (
                ("hh", "Huyện ủy Hiệp Hòa", "committee", None),
                ("a", "Đảng ủy xã A", "grassroots_committee", "hh"),
                ("b", "Đảng ủy xã B", "grassroots_committee", "hh"),
                ("c", "Đảng ủy xã C", "grassroots_committee", "hh"),
                ("lb", "Huyện ủy Lộc Bình", "committee", None),
                ("d", "Đảng ủy xã D", "grassroots_committee", "lb"),
            ):
                new_id = connection.execute(
                    insert(Organisation)
                    .values(name=name, kind=kind, path="/")
                    .returning(Organisation.id)  # type: ignore[arg-type]
                ).scalar_one()
                path = (orgs[parent][1] if parent else "/") + f"{new_id}/"
                connection.execute(
                    text("UPDATE organisation SET path = :p, parent_id = :parent WHERE id = :i"),
                    {"p": path, "parent": orgs[parent][0] if parent else None, "i": new_id},
                )
                orgs[key] = (new_id, path)

            def course(org: str, name: str, starts: date, attendees: int | None = None) -> int:
                course_id = connection.execute(
                    insert(Course)
                    .values(
                        kind="awareness",
                        name=name,
                        organisation_id=orgs[org][0],
                        starts_on=starts,
                        issuer="",
                    )
                    .returning(Course.id)  # type: ignore[arg-type]
                ).scalar_one()
                if attendees is not None:
                    connection.execute(
                        insert(CourseHeadcount).values(course_id=course_id, attendees=attendees)
                    )
                return int(course_id)

            def case(org: str, n: int) -> int:
                person = connection.execute(
                    insert(Person)
                    .values(
                        full_name=f"Ứng viên {org}{n}",
                        birth_date=date(2000, 1, 1),
                        gender="male",
                        ethnicity="Kinh",
                        occupation="farmer",
                        youth_union_member=False,
                        trade_union_member=False,
                        name_key=f"u {n}",
                    )
                    .returning(Person.id)  # type: ignore[arg-type]
                ).scalar_one()
                row = Case(
                    person_id=person,
                    cell_id=orgs[org][0],
                    org_path=orgs[org][1],
                    state="in_class",
                    nominated_on=date(2025, 2, 1),
                ).model_dump(exclude={"id"})
                return int(
                    connection.execute(
                        insert(Case).values(**row).returning(Case.id)  # type: ignore[arg-type]
                    ).scalar_one()
                )

            first = date(2025, 3, 10)
            recorded = course("hh", "Lớp nhận thức khóa 1/2025", first, attendees=120)
            copies = [
                course("a", "Lớp nhận thức khóa 1/2025", first),
                course("b", "Lớp  nhận thức KHÓA 1/2025", first),
                course("c", "Lớp nhận thức khóa 1/2025", first),
            ]
            later = course("a", "Lớp nhận thức khóa 1/2025", date(2025, 9, 8))
            elsewhere = course("d", "Lớp nhận thức khóa 1/2025", first)
            own = [course("a", "Lớp riêng", first, 30), course("b", "Lớp riêng", first, 25)]
            twice = case("a", 0)
            enrolled = {
                copy: [case(o, n) for n in (1, 2)] for copy, o in zip(copies, "abc", strict=True)
            }
            for copy, cases in enrolled.items():
                for case_id in cases:
                    connection.execute(insert(Attendance).values(course_id=copy, case_id=case_id))
            for copy in copies[:2]:
                connection.execute(insert(Attendance).values(course_id=copy, case_id=twice))
        db.migrate(database)
        with database.connect() as connection:
            kept = {
                row.id: row
                for row in connection.execute(select(Course)).all()  # type: ignore[call-overload]
            }
            attending = (
                connection.execute(
                    select(Attendance.case_id).where(Attendance.course_id == recorded)  # type: ignore[arg-type]
                )
                .scalars()
                .all()
            )
        assert sorted(kept) == sorted([recorded, later, elsewhere, *own])
        assert kept[recorded].organisation_id == orgs["hh"][0]
        assert sorted(attending) == sorted([twice, *(c for cs in enrolled.values() for c in cs)])
        assert kept[own[0]].organisation_id == orgs["a"][0]
    finally:
        database.dispose()
