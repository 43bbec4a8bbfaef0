"""ledger: one chain over every case's history rows, signed checkpoints, `via` on a row;
on PostgreSQL the history, ledger and checkpoint tables refuse UPDATE and DELETE

Revision ID: 0005_ledger
Revises: 0004_login
Create Date: 2026-11-29 20:50:00

Existing history rows are chained into the ledger in the order they were recorded,
with the same hash as workflow.history.ledger.entry_hash (repeated here: a migration
must not change when the code does).
"""
import hashlib
from datetime import datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_ledger"
down_revision = "0004_login"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
APPEND_ONLY = ("historyevent", "ledger", "checkpoint")


def upgrade() -> None:
    with op.batch_alter_table("historyevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table(
        "ledger",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("case_seq", sa.Integer(), nullable=False),
        sa.Column("history_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("case_id", "case_seq"),
    )
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ledger_seq", sa.Integer(), nullable=False),
        sa.Column("ledger_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _chain_existing_rows()
    if op.get_bind().dialect.name == "postgresql":
        _refuse_update_and_delete()


def _chain_existing_rows() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT case_id, seq, hash, recorded_at FROM historyevent ORDER BY recorded_at, id"
        )
    )
    ledger = sa.table(
        "ledger",
        *(sa.column(name) for name in ("seq", "case_id", "case_seq", "history_hash")),
        sa.column("recorded_at", sa.DateTime()),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    previous, batch = GENESIS, []
    for seq, (case_id, case_seq, history_hash, recorded_at) in enumerate(rows, start=1):
        if isinstance(recorded_at, str):  # SQLite hands back text through a raw query
            recorded_at = datetime.fromisoformat(recorded_at)
        stamp = recorded_at.replace(tzinfo=None).isoformat(timespec="microseconds")
        body = f"{seq}|{case_id}|{case_seq}|{history_hash}|{stamp}"
        entry_hash = hashlib.sha256((previous + body).encode("utf-8")).hexdigest()
        batch.append(
            {
                "seq": seq,
                "case_id": case_id,
                "case_seq": case_seq,
                "history_hash": history_hash,
                "recorded_at": recorded_at,
                "prev_hash": previous,
                "hash": entry_hash,
            }
        )
        previous = entry_hash
        if len(batch) >= 5000:
            connection.execute(ledger.insert(), batch)
            batch = []
    if batch:
        connection.execute(ledger.insert(), batch)


def _refuse_update_and_delete() -> None:
    """Even the application's own connection cannot change or remove a recorded row.
    The tables' owner can still drop the trigger: deploy/README.md says to run the
    application as a role that does not own them."""
    op.execute(
        """
        CREATE FUNCTION ketnap_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ketnap: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ketnap_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ketnap_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ketnap_append_only()")
    op.drop_table("checkpoint")
    op.drop_table("ledger")
    with op.batch_alter_table("historyevent", schema=None) as batch_op:
        batch_op.drop_column("via")
