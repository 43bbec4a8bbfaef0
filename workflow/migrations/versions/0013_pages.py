"""pages at a million cases: an index serving the class picker's newest classes of a kind
(course: kind, starts_on, id); a partial index of the open cases without a due date
(case: id, state, org_path), read by the task list's pages after the dated cases

Revision ID: 0013_pages
Revises: 0012_tallies
Create Date: 2026-11-30 01:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_pages'
down_revision = '0012_tallies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_course_kind_starts_on', 'course', ['kind', 'starts_on', 'id'], unique=False)
    undated = sa.text('open IS true AND next_due IS NULL')
    if op.get_bind().dialect.name == 'sqlite':
        undated = sa.text('open IS 1 AND next_due IS NULL')
    op.create_index(
        'ix_case_open_undated',
        'case',
        ['id', 'state', 'org_path'],
        unique=False,
        postgresql_where=undated,
        sqlite_where=undated,
    )


def downgrade() -> None:
    op.drop_index('ix_case_open_undated', table_name='case')
    op.drop_index('ix_course_kind_starts_on', table_name='course')
