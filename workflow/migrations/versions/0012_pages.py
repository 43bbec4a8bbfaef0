"""pages at a million cases: an index serving the class picker's newest classes of a kind
(course: kind, starts_on, id)

Revision ID: 0012_pages
Revises: 0010_scale
Create Date: 2026-11-30 01:50:00
"""
from alembic import op


revision = '0012_pages'
down_revision = '0010_scale'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_course_kind_starts_on', 'course', ['kind', 'starts_on', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_course_kind_starts_on', table_name='course')
