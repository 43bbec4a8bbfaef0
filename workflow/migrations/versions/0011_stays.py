"""stays: each case's stays in the states it has left (how long each step held it, in
days and working days), for the step durations and the forecast; derived here from the
history, written beside each history row from now on; an index on the cases waiting in
each step by the day they entered it

Revision ID: 0011_stays
Revises: 0010_scale
Create Date: 2026-11-30 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workflow import stays

revision = "0011_stays"
down_revision = "0010_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_stay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=False),
        sa.Column("left_by", sa.String(), nullable=False),
        sa.Column("next_state", sa.String(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_stay_case_id", "case_stay", ["case_id"])
    for name, first in (("ix_case_stay_left", "left_on"), ("ix_case_stay_path", "org_path")):
        second = "org_path" if first == "left_on" else "left_on"
        columns = [first, second, "state", "next_state", "days", "working_days"]
        ops = {"org_path": "text_pattern_ops"} if first == "org_path" else {}
        op.create_index(name, "case_stay", columns, postgresql_ops=ops)
    op.create_index(
        "ix_case_state_since", "case", ["state", "org_path", "state_since", "next_due", "id"]
    )
    stays.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_case_state_since", table_name="case")
    op.drop_index("ix_case_stay_path", table_name="case_stay")
    op.drop_index("ix_case_stay_left", table_name="case_stay")
    op.drop_index("ix_case_stay_case_id", table_name="case_stay")
    op.drop_table("case_stay")
