"""integrity checks: whole-subtree history checks run in the background, their results kept

Revision ID: 0007_rulesets
Revises: 0006_imports
Create Date: 2026-11-29 23:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007_rulesets'
down_revision = '0006_imports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('integrity_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('org_path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('runner', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('whole', sa.Boolean(), nullable=False),
    sa.Column('intact', sa.Boolean(), nullable=True),
    sa.Column('problem_count', sa.Integer(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('error_vi', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('error_en', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_integrity_check_scope', 'integrity_check', ['org_path', 'id'], unique=False)
    op.create_index('ix_integrity_check_state', 'integrity_check', ['state', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_integrity_check_state', table_name='integrity_check')
    op.drop_index('ix_integrity_check_scope', table_name='integrity_check')
    op.drop_table('integrity_check')
