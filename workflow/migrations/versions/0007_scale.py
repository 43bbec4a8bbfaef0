"""pages at a province's scale: indexes for the dashboard's first cases of each state and
for the case list's due cases, soonest first (keyset pagination on (next_due, id))

Revision ID: 0007_scale
Revises: 0006_imports
Create Date: 2026-11-29 22:40:00
"""
from alembic import op


revision = '0007_scale'
down_revision = '0006_imports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_case_state_due', 'case', ['state', 'next_due', 'id', 'org_path'], unique=False
    )
    op.create_index('ix_case_due_id', 'case', ['next_due', 'id', 'org_path'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_due_id', table_name='case')
    op.drop_index('ix_case_state_due', table_name='case')
