"""pages at a province's scale: indexes for the dashboard's first cases of each state and
for the case list's due cases, soonest first (keyset pagination on (next_due, id)); the
case tally (cases per cell and state), kept by triggers on "case", for the dashboard's
counts

Revision ID: 0010_scale
Revises: 0009_classes
Create Date: 2026-11-29 22:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010_scale'
down_revision = '0009_classes'
branch_labels = None
depends_on = None

# The triggers and the first fill, as workflow/tallies.py CASE_TALLY_DDL had them.
TALLY_DDL = {
    "sqlite": (
        'CREATE TRIGGER case_tally_insert AFTER INSERT ON "case" BEGIN INSERT INTO case_tally (org_path, state, n) VALUES (NEW.org_path, NEW.state, 1) ON CONFLICT (org_path, state) DO UPDATE SET n = n + 1; END',
        'CREATE TRIGGER case_tally_delete AFTER DELETE ON "case" BEGIN UPDATE case_tally SET n = n - 1 WHERE org_path = OLD.org_path AND state = OLD.state; END',
        'CREATE TRIGGER case_tally_update AFTER UPDATE OF state, org_path ON "case" WHEN OLD.state IS NOT NEW.state OR OLD.org_path IS NOT NEW.org_path BEGIN UPDATE case_tally SET n = n - 1 WHERE org_path = OLD.org_path AND state = OLD.state; INSERT INTO case_tally (org_path, state, n) VALUES (NEW.org_path, NEW.state, 1) ON CONFLICT (org_path, state) DO UPDATE SET n = n + 1; END',
        'INSERT INTO case_tally (org_path, state, n) SELECT org_path, state, count(*) FROM "case" GROUP BY org_path, state',
    ),
    "postgresql": (
        'CREATE FUNCTION case_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO case_tally (org_path, state, n) SELECT org_path, state, sum(n) FROM (SELECT org_path, state, 1 AS n FROM added) d GROUP BY org_path, state ORDER BY org_path, state ON CONFLICT (org_path, state) DO UPDATE SET n = case_tally.n + excluded.n; RETURN NULL; END $$',
        'CREATE FUNCTION case_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO case_tally (org_path, state, n) SELECT org_path, state, sum(n) FROM (SELECT org_path, state, -1 AS n FROM removed) d GROUP BY org_path, state ORDER BY org_path, state ON CONFLICT (org_path, state) DO UPDATE SET n = case_tally.n + excluded.n; RETURN NULL; END $$',
        'CREATE FUNCTION case_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO case_tally (org_path, state, n) SELECT org_path, state, sum(n) FROM (SELECT a.org_path, a.state, 1 AS n FROM added a JOIN removed r ON r.id = a.id WHERE (a.org_path, a.state) IS DISTINCT FROM (r.org_path, r.state) UNION ALL SELECT r.org_path, r.state, -1 FROM added a JOIN removed r ON r.id = a.id WHERE (a.org_path, a.state) IS DISTINCT FROM (r.org_path, r.state)) d GROUP BY org_path, state ORDER BY org_path, state ON CONFLICT (org_path, state) DO UPDATE SET n = case_tally.n + excluded.n; RETURN NULL; END $$',
        'CREATE TRIGGER case_tally_insert AFTER INSERT ON "case" REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION case_tally_insert()',
        'CREATE TRIGGER case_tally_delete AFTER DELETE ON "case" REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION case_tally_delete()',
        'CREATE TRIGGER case_tally_update AFTER UPDATE ON "case" REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION case_tally_update()',
        'INSERT INTO case_tally (org_path, state, n) SELECT org_path, state, count(*) FROM "case" GROUP BY org_path, state',
    ),
}
TALLY_DROP = {
    "sqlite": tuple(f"DROP TRIGGER IF EXISTS case_tally_{kind}" for kind in ("insert", "delete", "update")),
    "postgresql": tuple(
        s
        for kind in ("insert", "delete", "update")
        for s in (
            f'DROP TRIGGER IF EXISTS case_tally_{kind} ON "case"',
            f"DROP FUNCTION IF EXISTS case_tally_{kind}()",
        )
    ),
}


def upgrade() -> None:
    op.create_index(
        'ix_case_state_due', 'case', ['state', 'next_due', 'id', 'org_path'], unique=False
    )
    op.create_index('ix_case_due_id', 'case', ['next_due', 'id', 'org_path'], unique=False)
    op.create_table('case_tally',
    sa.Column('org_path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('org_path', 'state')
    )
    for statement in TALLY_DDL.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    for statement in TALLY_DROP.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    op.drop_table('case_tally')
    op.drop_index('ix_case_due_id', table_name='case')
    op.drop_index('ix_case_state_due', table_name='case')
