"""The ledger under concurrent writers, the CLI's origin on a row, time that never goes
back, the key and checkpoint commands, and the migration that chains existing rows."""

from __future__ import annotations

import json
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

from cli.main import main
from cli.options import command_line_origin
from tests.engine.conftest import TODAY, Setup
from tests.history.tamper import tamper
from workflow import db, history
from workflow.history import ledger
from workflow.models import Checkpoint, HistoryEvent, LedgerEntry

WRITERS = 4
ACTS = 8


def advance_many(setup: Setup, case_id: int, barrier: threading.Barrier) -> None:
    secretary = setup.secretary(setup.case(case_id).cell_id)
    barrier.wait()
    for n in range(ACTS):
        event, data = (
            ("record_self_review", {})
            if n % 2
            else ("complete_theory_class", {"class_name": "Lớp mới", "certificate_no": "1"})
        )
        version = setup.case(case_id).version
        setup.engine.advance(case_id, event, data, secretary, version, on=TODAY)


def concurrent_advances_keep_one_chain(setup: Setup) -> None:
    cases = [
        setup.case_in("probationary", cell, end=TODAY - timedelta(days=30))
        for cell in setup.world.cell_ids[:WRITERS]
    ]
    before = ledger_entries(setup)
    barrier = threading.Barrier(WRITERS)
    with ThreadPoolExecutor(WRITERS) as pool:
        for done in [pool.submit(advance_many, setup, c, barrier) for c in cases]:
            done.result()
    assert ledger_entries(setup) == before + WRITERS * ACTS
    with setup.engine.session() as session:
        whole = ledger.verify(session)
        assert whole.intact, whole.problems
        # seq order is commit order: within each case the rows come in their own order
        seen = [
            (e.case_id, e.case_seq)
            for e in session.exec(select(LedgerEntry).order_by(col(LedgerEntry.seq)))
        ]
    for case_id in cases:
        mine = [seq for c, seq in seen if c == case_id]
        assert mine == sorted(mine)


def ledger_entries(setup: Setup) -> int:
    with setup.engine.session() as session:
        return len(session.exec(select(LedgerEntry.seq)).all())


@pytest.mark.postgres
def test_concurrent_advances_on_postgresql_keep_the_ledger_one_chain(
    postgres_setup: Setup,
) -> None:
    concurrent_advances_keep_one_chain(postgres_setup)


def test_concurrent_advances_on_sqlite_keep_the_ledger_one_chain(sqlite_setup: Setup) -> None:
    concurrent_advances_keep_one_chain(sqlite_setup)


# ── where and when an act was recorded ────────────────────────────────────
def url_of(setup: Setup) -> str:
    return setup.engine.database.url.render_as_string(hide_password=False)


def test_an_act_from_the_command_line_records_the_operating_system_user(setup: Setup) -> None:
    case_id = setup.case_in("nominated")
    result = CliRunner().invoke(
        main,
        [
            "advance",
            str(case_id),
            "enrol_in_class",
            "--database",
            url_of(setup),
            "--now",
            TODAY.isoformat(),
            "--on",
            TODAY.isoformat(),
            "--actor",
            "secretary",
            "--data",
            json.dumps({"class_name": "Lớp nhận thức", "issuer": "TTCT"}),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = setup.history(case_id)
    assert rows[0].via is None  # recorded through the engine directly (the web's way)
    assert rows[-1].via == command_line_origin() and rows[-1].via.startswith("cli:")
    with setup.engine.session() as session:
        assert history.verify_case(session, case_id).intact
    # the origin is hashed: rubbing it out breaks the row
    tamper(
        setup.engine.database, "UPDATE historyevent SET via = NULL WHERE id = :row", row=rows[-1].id
    )
    with setup.engine.session() as session:
        assert history.verify_case(session, case_id).reason == "row altered"


def test_the_recorded_time_never_goes_back(setup: Setup) -> None:
    case_id = setup.case_in("nominated")
    first = setup.history(case_id)[-1].recorded_at
    setup.clock.moment = first - timedelta(hours=1)  # a clock set back, same day
    secretary = setup.secretary(setup.case(case_id).cell_id)
    setup.engine.advance(
        case_id,
        "enrol_in_class",
        {"class_name": "Lớp", "issuer": "TTCT"},
        secretary,
        setup.case(case_id).version,
        on=setup.case(case_id).state_since,
    )
    assert setup.history(case_id)[-1].recorded_at == first  # not an hour before it


# ── keys, checkpoints, export, verify ─────────────────────────────────────
def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_keygen_checkpoint_export_and_verify_from_the_command_line(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.case_in("class_passed")
    key = tmp_path / "keys" / "ledger.key"
    key.parent.mkdir()
    made = CliRunner().invoke(main, ["keygen", str(key)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    again = CliRunner().invoke(main, ["keygen", str(key)])
    assert again.exit_code == 1 and "never overwritten" in again.output

    url = url_of(setup)
    unsigned = CliRunner().invoke(main, ["verify", "--database", url])
    assert unsigned.exit_code == 0, unsigned.output
    assert "no signing key configured" in unsigned.output

    monkeypatch.setenv("KETNAP_HISTORY_SIGNING_KEY_FILE", str(key))
    none_yet = CliRunner().invoke(main, ["verify", "--database", url])
    assert "no signed checkpoint exists yet" in none_yet.output
    signed = CliRunner().invoke(main, ["checkpoint", "--database", url])
    assert signed.exit_code == 0 and "signed ledger head" in signed.output, signed.output
    exported = tmp_path / "checkpoints.json"
    out = CliRunner().invoke(main, ["checkpoints", "--database", url, "--export", str(exported)])
    assert out.exit_code == 0, out.output
    document = json.loads(exported.read_text())
    assert len(document["checkpoints"]) == 1 and "PUBLIC KEY" in document["public_key"]

    # an auditor's machine: only the public key, and the exported copy
    monkeypatch.delenv("KETNAP_HISTORY_SIGNING_KEY_FILE")
    public = str(key) + ".pub"
    args = ["verify", "--database", url, "--public-key", public, "--checkpoints", str(exported)]
    clean = CliRunner().invoke(main, args)
    assert clean.exit_code == 0, clean.output
    assert "1 signed checkpoints verify" in clean.output

    # the insider deletes the stored checkpoint and cuts the ledger's last entry:
    # the exported copy still names it
    tamper(
        setup.engine.database,
        "DELETE FROM checkpoint",
        "DELETE FROM ledger WHERE seq = (SELECT MAX(seq) FROM ledger)",
    )
    broken = CliRunner().invoke(main, args)
    assert broken.exit_code == 1
    assert "exported checkpoint of ledger entry" in broken.output
    assert "no longer reaches the signed entry" in broken.output


def test_checkpoint_without_a_key_says_how_to_make_one(setup: Setup) -> None:
    result = CliRunner().invoke(main, ["checkpoint", "--database", url_of(setup)])
    assert result.exit_code == 1 and "ketnap keygen" in result.output
    with setup.engine.session() as session:
        assert session.exec(select(Checkpoint)).all() == []


# ── the migration chains the rows written before it ───────────────────────
def test_upgrading_chains_existing_history_into_the_ledger(setup: Setup) -> None:
    from alembic import command

    setup.case_in("cell_resolved")
    setup.case_in("class_passed")
    config = db.alembic_config(setup.engine.database)
    with setup.engine.database.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004_login")  # the revision before the ledger
    db.migrate(setup.engine.database)
    with setup.engine.session() as session:
        whole = ledger.verify(session)
        rows = session.exec(select(HistoryEvent)).all()
        assert whole.intact, whole.problems
        assert whole.entries == len(rows) > 0
        assert history.verify_all(session) == []
