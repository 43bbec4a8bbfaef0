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
