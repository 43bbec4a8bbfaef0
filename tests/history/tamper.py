"""An insider with database access: statements that bypass the engine.

On PostgreSQL the history and ledger tables refuse UPDATE and DELETE through a trigger;
the insider modelled here owns the database (or is its superuser) and switches the
triggers off for the transaction (session_replication_role = replica), as such a person
could. The tests then show that what the triggers cannot stop, verification names.
"""

from __future__ import annotations

from sqlalchemy import Engine, text


def tamper(database: Engine, *statements: str, **params: object) -> None:
    with database.begin() as connection:
        if database.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for sql in statements:
            connection.execute(text(sql), params)
