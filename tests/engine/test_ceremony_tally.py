"""The monthly tallies (models.CeremonyTally, models.OutcomeTally) are kept by the
database: whatever writes a case or a person — the engine's acts (a ceremony recorded, a
transfer, particulars corrected, a confirmation, a removal), the bulk replay of an
import, plain statements (several rows at once on PostgreSQL's statement triggers),
deletes — each tally equals a recount from "case" afterwards. Migration 0012 fills them
from the cases already recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlmodel import Session

from tests.engine.conftest import BOTH, TODAY, Setup, sqlite_url
from tests.engine.test_bulk_replay import histories
from tests.support.postgres import temporary_database
from workflow import db
from workflow.tallies import CEREMONY_TALLY_DDL, OUTCOME_TALLY_DDL

Rows = dict[tuple[str, int, str, str], int]


def recount(connection: Connection | Session) -> Rows:
    """The tally as counted afresh from "case" and person (the migration's fill)."""
    fill = CEREMONY_TALLY_DDL[_dialect(connection)][-1]
    query = fill[fill.index("SELECT") :]
    return {(p, int(m), d, v): int(n) for p, m, d, v, n in connection.execute(text(query))}


def tally(connection: Connection | Session) -> Rows:
    rows = connection.execute(text("SELECT org_path, month, dim, value, n FROM ceremony_tally"))
    kept = {(p, int(m), d, v): int(n) for p, m, d, v, n in rows}
    assert all(n >= 0 for n in kept.values()), "a count below zero"
    return {key: n for key, n in kept.items() if n}


def outcome_recount(connection: Connection | Session) -> dict[tuple[str, str, int], int]:
    fill = OUTCOME_TALLY_DDL[_dialect(connection)][-1]
    query = fill[fill.index("SELECT") :]
    return {(p, m, int(month)): int(n) for p, m, month, n in connection.execute(text(query))}


def outcome_tally(connection: Connection | Session) -> dict[tuple[str, str, int], int]:
    rows = connection.execute(text("SELECT org_path, measure, month, n FROM outcome_tally"))
    kept = {(p, m, int(month)): int(n) for p, m, month, n in rows}
    assert all(n >= 0 for n in kept.values()), "a count below zero"
    return {key: n for key, n in kept.items() if n}


def checked(connection: Connection | Session) -> Rows:
    """Both tallies equal their recounts; the ceremony tally's rows."""
    assert outcome_tally(connection) == outcome_recount(connection)
    kept = tally(connection)
    assert kept == recount(connection)
    return kept


def _dialect(connection: Connection | Session) -> str:
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    return bind.dialect.name


def assert_kept(setup: Setup) -> Rows:
    with setup.engine.session() as session:
        return checked(session)


def ceremonies_under(rows: Rows, path: str) -> int:
    return sum(n for (p, _, dim, _), n in rows.items() if p == path and dim == "ceremonies")


def test_the_engines_acts_keep_the_tally(setup: Setup) -> None:
    """A ceremony recorded, the particulars of its new member corrected, the member
    transferred to a cell of another grassroots committee, then removed."""
    before = assert_kept(setup)
    cell, other = setup.dong_lo_cell, setup.bang_lung_cell
    first = setup.case_in("probationary", cell)
    second = setup.case_in("probationary", cell, end=TODAY - timedelta(days=40))
    kept = assert_kept(setup)
    path = setup.case(first).org_path
    commune = path[: path.rstrip("/").rindex("/") + 1]
    assert ceremonies_under(kept, commune) == ceremonies_under(before, commune) + 2

    correction = {"birth_date": "1960-01-05", "gender": "female", "ethnicity": "Tày"}
    setup.advance(
        first,
        "correct_particulars",
        {"person": correction | {"occupation": "village_head"}, "reason": "Ghi sai"},
        setup.secretary(cell),
        TODAY,
    )
    kept = assert_kept(setup)
    assert any(d == "ethnicity" and v == "Tày" for (_, _, d, v) in kept)

    setup.advance(second, "transfer", {"to_cell_id": other}, setup.secretary(cell), TODAY)
    kept = assert_kept(setup)
    moved = setup.case(second).org_path
    assert moved != path
    assert ceremonies_under(kept, moved[: moved.rstrip("/").rindex("/") + 1]) >= 1

    removal = setup.plausible_data("remove", other, TODAY, "probationary")
    setup.advance(second, "remove", removal, setup.actor_for("remove", other), TODAY)
    assert_kept(setup)
    setup.case_in("official", cell)
    assert_kept(setup)
    with setup.engine.session() as session:
        measures = {m for (_, m, _) in outcome_tally(session)}
    assert {"confirmed", "confirmed_at", "removed", "removed_at"} <= measures


def test_the_bulk_replay_keeps_the_tally(setup: Setup) -> None:
    before = assert_kept(setup)
    results = setup.engine.replay(histories(setup, refusals=False))
    assert all(r.accepted for r in results)
    after = assert_kept(setup)
    assert sum(after.values()) > sum(before.values())


def test_statements_on_many_rows_and_deletes_keep_the_tally(setup: Setup) -> None:
    """Plain statements of several rows each (one statement trigger on PostgreSQL sees
    them all): copies of the cases inserted at once, moved, their persons corrected,
    their ceremonies moved and undone, the copies deleted (the engine's cases keep their
    append-only history, so they are not)."""
    for n in range(4):
        setup.case_in("probationary", setup.world.cell_ids[n % 2], end=TODAY - timedelta(n * 35))
    assert assert_kept(setup)
    columns = ", ".join(c.name for c in db.metadata().tables["case"].columns if c.name != "id")
    with setup.engine.session() as session:
        last = session.execute(text('SELECT max(id) FROM "case"')).scalar_one()
    copies = f"id > {int(last)}"
    statements: list[tuple[str, dict[str, Any]]] = [
        (
            f'INSERT INTO "case" ({columns}) SELECT {columns} FROM "case" '
            "WHERE ceremony_on IS NOT NULL",
            {},
        ),
        # a transfer of several cases at once
        (
            'UPDATE "case" SET org_path = (SELECT path FROM organisation WHERE id = :cell), '
            f"cell_id = :cell WHERE ceremony_on IS NOT NULL AND {copies}",
            {"cell": setup.world.cell_ids[3]},
        ),
        # corrections of several persons at once: birth date, religion, Youth Union
        (
            "UPDATE person SET birth_date = :born, religion = 'Phật giáo', "
            "youth_union_member = NOT youth_union_member "
            'WHERE id IN (SELECT person_id FROM "case" WHERE ceremony_on IS NOT NULL)',
            {"born": date(1999, 3, 2)},
        ),
        # a name corrected: no key of the breakdown moves
        ("UPDATE person SET full_name = full_name || ' A'", {}),
        # ceremonies moved to one day, one undone
        (
            f'UPDATE "case" SET ceremony_on = :day WHERE ceremony_on IS NOT NULL AND {copies}',
            {"day": date(2025, 12, 31)},
        ),
        (
            'UPDATE "case" SET ceremony_on = NULL WHERE id = '
            f'(SELECT min(id) FROM "case" WHERE ceremony_on IS NOT NULL AND {copies})',
            {},
        ),
        # confirmed, then removed: official_on and closed_on set, the state changed
        (
            f"UPDATE \"case\" SET official_on = :day, state = 'official' WHERE {copies}",
            {"day": date(2026, 1, 2)},
        ),
        (
            "UPDATE \"case\" SET state = 'removed', closed_on = :day, open = :no "
            f'WHERE id IN (SELECT id FROM "case" WHERE {copies} ORDER BY id LIMIT 2)',
            {"day": date(2026, 2, 3), "no": False},
        ),
        # a state changed neither to nor from "removed"
        (f"UPDATE \"case\" SET state = 'withdrawn' WHERE {copies} AND state = 'official'", {}),
        # one copy deleted, then all of them
        (f'DELETE FROM "case" WHERE id = (SELECT max(id) FROM "case" WHERE {copies})', {}),
        (f'DELETE FROM "case" WHERE {copies}', {}),
    ]
    counts = []
    for statement, values in statements:
        with setup.engine.database.begin() as connection:
            connection.execute(text(statement), values)
            kept = checked(connection)
            counts.append(sum(n for (_, _, d, _), n in kept.items() if d == "ceremonies"))
    inserted, *_, one_deleted, all_deleted = counts
    assert inserted > one_deleted > all_deleted > 0


@pytest.fixture(params=BOTH)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with temporary_database() as url:
        yield url


def test_the_migration_fills_the_tallies_from_the_cases_recorded(empty_url: str) -> None:
    from alembic import command

    database = db.connect(empty_url)
    try:
        config = db.alembic_config(database)
        with database.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0010_scale")
        with database.begin() as connection:
            for statement in (
                "INSERT INTO organisation (id, name, kind, may_admit, path) VALUES "
                "(1, 'Huyện', 'committee', true, '/1/'), (2, 'Xã', 'grassroots_committee', "
                "true, '/1/2/'), (3, 'Chi bộ', 'cell', false, '/1/2/3/')",
                "INSERT INTO person (id, full_name, birth_date, gender, ethnicity, occupation, "
                "youth_union_member, trade_union_member, name_key) VALUES "
                "(1, 'A', '2000-05-03', 'female', 'Kinh', 'farmer', true, false, 'a'), "
                "(2, 'B', '1990-01-01', 'male', 'Tày', 'teacher', false, false, 'b')",
                'INSERT INTO "case" (person_id, cell_id, org_path, state, nominated_on, '
                "ceremony_on, official_on, version, head_hash, open, nominated_by, nomination_ref, "
                "failed_confirm_votes, escalated, extensions, imported) VALUES "
                "(1, 3, '/1/2/3/', 'probationary', '2024-01-01', '2024-05-03', '2025-05-03', 1, '', "
                "true, '', '', 0, false, '{}', false), (2, 3, '/1/2/3/', 'nominated', "
                "'2024-01-01', NULL, NULL, 1, '', true, '', '', 0, false, '{}', false)",
            ):
                connection.execute(text(statement))
        db.migrate(database)
        with database.begin() as connection:
            kept = tally(connection)
            assert kept == recount(connection)
            assert kept[("/1/", 2024 * 12 + 4, "band", "1")] == 1  # 24 on the day
            assert kept[("/1/2/", 2024 * 12 + 4, "youth", "1")] == 1
            assert {p for (p, _, d, _) in kept if d != "at"} == {"/1/", "/1/2/"}
            assert kept[("/1/2/3/", 2024 * 12 + 4, "at", "")] == 1
            assert sum(n for (p, _, d, _), n in kept.items() if d == "ceremonies") == 2
            outcomes = outcome_tally(connection)
            assert outcomes == outcome_recount(connection)
            assert outcomes[("/1/2/3/", "confirmed_at", 2025 * 12 + 4)] == 1
            assert outcomes[("/1/", "confirmed", 2025 * 12 + 4)] == 1
    finally:
        database.dispose()
