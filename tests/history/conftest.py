"""The engine's fixtures (a migrated demo database on SQLite and on PostgreSQL)."""

from tests.engine.conftest import (  # noqa: F401 — fixtures, registered by import
    postgres_setup,
    postgres_template,
    setup,
    sqlite_setup,
    sqlite_template,
)
