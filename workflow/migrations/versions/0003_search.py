"""search: each person's name folded (no diacritics, no case) in person.name_key, indexed,
filled in for the persons already recorded

Revision ID: 0003_search
Revises: 0002_admin_log
Create Date: 2026-11-29 21:15:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from workflow.text import fold


revision = '0003_search'
down_revision = '0002_admin_log'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='')
        )
    _fill_name_keys()
    with op.batch_alter_table('person', schema=None) as batch_op:
        # the default only filled the rows already there; the models set every new one
        batch_op.alter_column('name_key', server_default=None)
        batch_op.create_index(batch_op.f('ix_person_name_key'), ['name_key'], unique=False)


def _fill_name_keys() -> None:
    """The persons already recorded get their folded name (in batches: a province has
    a million)."""
    connection = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer), sa.column('full_name', sa.String),
                      sa.column('name_key', sa.String))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(person.c.id, person.c.full_name)
            .where(person.c.id > last).order_by(person.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            person.update().where(person.c.id == sa.bindparam('pid'))
            .values(name_key=sa.bindparam('key')),
            [{'pid': pid, 'key': fold(name or '')} for pid, name in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_name_key'))
        batch_op.drop_column('name_key')
