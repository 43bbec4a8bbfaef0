"""task claims: an officer takes a step from the committee's shared queue (workflow/directory/claims.py)

Revision ID: 0008_tasks
Revises: 0007_rulesets
Create Date: 2026-11-29 22:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008_tasks'
down_revision = '0007_rulesets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'event', name='uq_task_claim_step')
    )


def downgrade() -> None:
    op.drop_table('task_claim')
