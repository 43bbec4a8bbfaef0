"""An insider with write access to the database tries to change the record unseen.

Each attack of issue 12 as a test, on SQLite and PostgreSQL: `history.audit` (what
`ketnap verify` and the auditor's pages run) must name what was done.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from tests.engine.conftest import Setup
from tests.history.tamper import tamper
from workflow import history
from workflow.history import ledger, signing
from workflow.models import Case, HistoryEvent, LedgerEntry, Person


def audit(setup: Setup, public: object = None) -> history.Audit:
    with setup.engine.session() as session:
        return history.audit(session, public)  # type: ignore[arg-type]


def check(setup: Setup, case_id: int) -> history.ChainCheck:
    with setup.engine.session() as session:
        return history.verify_case(session, case_id)


def rewrite_with_rechain(setup: Setup, case_id: int, seq: int, old: str, new: str) -> None:
    """Change one row's data and recompute every later hash of the case and its head,
    as someone who read workflow/history would."""
    with setup.engine.session() as session:
        rows = history.rows_of(session, case_id)
    previous = rows[seq - 2].hash if seq > 1 else history.GENESIS
    statements, params = [], {}
    for row in rows[seq - 1 :]:
        if row.seq == seq:
            assert old in row.data
            row.data = row.data.replace(old, new)
        row.prev_hash = previous
        history.seal(row)
        previous = row.hash
        statements.append(
            f"UPDATE historyevent SET data = :data{row.seq}, prev_hash = :prev{row.seq}, "
            f"hash = :hash{row.seq} WHERE id = {row.id}"
        )
        params |= {
            f"data{row.seq}": row.data,
            f"prev{row.seq}": row.prev_hash,
            f"hash{row.seq}": row.hash,
        }
    statements.append(f'UPDATE "case" SET head_hash = :head WHERE id = {case_id}')
    tamper(setup.engine.database, *statements, head=previous, **params)


def vote_row(setup: Setup, case_id: int) -> HistoryEvent:
    return next(r for r in setup.history(case_id) if r.event == "cell_vote")


def test_an_untouched_database_verifies(setup: Setup) -> None:
    setup.case_in("cell_resolved")
    setup.case_in("class_passed")
    found = audit(setup)
    assert found.intact, found.problems()
    assert found.ledger.entries == sum(1 for _ in _all_rows(setup))
    assert any("no signing key" in note.en for note in found.notes)


def _all_rows(setup: Setup) -> list[HistoryEvent]:
    with setup.engine.session() as session:
        return list(session.exec(select(HistoryEvent)))


def test_a_vote_rewritten_with_its_hashes_recomputed_is_named(setup: Setup) -> None:
    case_id = setup.case_in("committee_resolved")
    other = setup.case_in("cell_resolved")  # written after: its ledger entries follow
    vote = vote_row(setup, case_id)
    rewrite_with_rechain(setup, case_id, vote.seq, '"votes_for":9', '"votes_for":6')
    with setup.engine.session() as session:
        rows = history.rows_of(session, case_id)
        # the case's own chain is consistent again: only the ledger can tell
        assert history.verify_rows(case_id, rows, session.get(Case, case_id).head_hash).intact  # type: ignore[union-attr]
    named = check(setup, case_id)
    assert not named.intact and named.broken_at == vote.seq
    assert named.reason == "row rewritten (the ledger disagrees)"
    found = audit(setup)
    assert f"case {case_id}: row {vote.seq} rewritten" in "\n".join(found.problems())
    assert not any(f"case {other}:" in line for line in found.problems())


def test_a_case_deleted_with_all_its_rows_is_named(setup: Setup) -> None:
    kept = setup.case_in("class_passed")
    gone = setup.case_in("class_passed")
    tamper(
        setup.engine.database,
        *(
            f"DELETE FROM {table} WHERE case_id = :case"
            for table in (
                "attendance",
                "casedeadline",
                "sponsorship",
                "helperassignment",
                "case_stay",
            )
        ),
        "DELETE FROM historyevent WHERE case_id = :case",
        'DELETE FROM "case" WHERE id = :case',
        case=gone,
    )
    found = audit(setup)
    assert found.cases == []  # nothing left of the case for its own chain to show
    assert found.problems() == [f"case {gone} deleted with all its rows"]
    assert check(setup, kept).intact


def test_a_truncated_history_with_its_version_rolled_back_is_named(setup: Setup) -> None:
    case_id = setup.case_in("sponsored")
    rows = setup.history(case_id)
    last, before = rows[-1], rows[-2]
    tamper(
        setup.engine.database,
        "DELETE FROM sponsorship WHERE case_id = :case",
        "DELETE FROM historyevent WHERE id = :row",
        'UPDATE "case" SET version = :version, head_hash = :head, state = :state, '
        "state_since = :since WHERE id = :case",
        case=case_id,
        since=before.on,
        row=last.id,
        version=before.seq,
        head=before.hash,
        state=before.to_state,
    )
    named = check(setup, case_id)
    assert not named.intact and named.broken_at == last.seq
    assert named.reason == (
        f"latest rows deleted (the ledger recorded {len(rows)}, the history has {len(rows) - 1})"
    )
    problems = audit(setup).problems()
    assert problems == [
        f"case {case_id}: row {last.seq} deleted (the ledger recorded it; "
        f"the case has {len(rows) - 1} rows)"
    ]


def test_edited_particulars_are_named_each(setup: Setup) -> None:
    case_id = setup.case_in("class_passed")
    person_id = setup.case(case_id).person_id
    with setup.engine.session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        name, born, national_id = person.full_name, person.birth_date, person.national_id
    tamper(
        setup.engine.database,
        "UPDATE person SET full_name = 'Kẻ Mạo Danh', birth_date = :born, "
        "national_id = '001099999999' WHERE id = :person",
        born=born.replace(year=born.year - 1),
        person=person_id,
    )
    named = check(setup, case_id)
    assert not named.intact
    assert f"person name edited: Kẻ Mạo Danh, history says {name}" in named.reason
    assert (
        f"person birth date edited: {born.replace(year=born.year - 1)}, history says {born}"
        in named.reason
    )
    assert f"person national id edited: 001099999999, history says {national_id}" in named.reason
    assert [c.case_id for c in audit(setup).cases] == [case_id]


def test_an_edited_case_cell_is_named(setup: Setup) -> None:
    case_id = setup.case_in("class_passed")
    cell = setup.case(case_id).cell_id
    elsewhere = next(c for c in setup.world.cell_ids if c != cell)
    tamper(
        setup.engine.database,
        'UPDATE "case" SET cell_id = :to WHERE id = :case',
        to=elsewhere,
        case=case_id,
    )
    named = check(setup, case_id)
    assert named.reason == f"case cell edited: {elsewhere}, history says {cell}"
    assert audit(setup).problems() == [
        f"case {case_id}: row 3 case cell edited: {elsewhere}, history says {cell}"
    ]


def test_a_transfer_moves_the_cell_the_history_expects(setup: Setup) -> None:
    case_id = setup.case_in("class_passed")
    cell = setup.case(case_id).cell_id
    elsewhere = next(c for c in setup.world.cell_ids if c != cell)
    setup.advance(
        case_id,
        "transfer",
        {"to_cell_id": elsewhere},
        setup.secretary(cell),
        setup.case(case_id).state_since,
    )  # type: ignore[arg-type]
    assert setup.case(case_id).cell_id == elsewhere
    assert check(setup, case_id).intact
    tamper(
        setup.engine.database,
        'UPDATE "case" SET cell_id = :to WHERE id = :case',
        to=cell,
        case=case_id,
    )
    assert check(setup, case_id).reason == f"case cell edited: {cell}, history says {elsewhere}"


def test_an_edited_date_and_version_are_named(setup: Setup) -> None:
    case_id = setup.case_in("class_passed")
    case = setup.case(case_id)
    assert case.certificate_on is not None
    tamper(
        setup.engine.database,
        'UPDATE "case" SET certificate_on = :day, version = 9 WHERE id = :case',
        day=case.certificate_on.replace(year=case.certificate_on.year - 1),
        case=case_id,
    )
    reason = check(setup, case_id).reason
    assert "case certificate on edited" in reason
    assert f"case version edited: 9, history says {case.version}" in reason


# ── signed checkpoints ────────────────────────────────────────────────────
@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.key"
    signing.keygen(path)
    return path


def sign(setup: Setup, key: Path) -> None:
    with setup.engine.session() as session:
        assert signing.sign(session, signing.load_private(key), setup.engine.clock.now())
        session.commit()


def test_a_valid_signature_verifies_and_later_entries_extend_it(setup: Setup, key: Path) -> None:
    setup.case_in("class_passed")
    sign(setup, key)
    setup.case_in("class_passed")  # the ledger grows after the checkpoint
    found = audit(setup, signing.load_public(key.with_name("ledger.key.pub")))
    assert found.intact, found.problems()
    assert found.checkpoints is not None and found.checkpoints.checked == 1
    assert any("since the latest signed checkpoint" in note.en for note in found.notes)


def test_a_tampered_signed_head_fails(setup: Setup, key: Path) -> None:
    setup.case_in("class_passed")
    sign(setup, key)
    tamper(setup.engine.database, "UPDATE checkpoint SET ledger_seq = ledger_seq - 1")
    problems = audit(setup, signing.load_public(key)).problems()
    assert len(problems) == 1 and "signature does not verify" in problems[0]


def test_a_checkpoint_signed_by_another_key_fails(setup: Setup, key: Path, tmp_path: Path) -> None:
    setup.case_in("class_passed")
    sign(setup, key)
    other = tmp_path / "other.key"
    signing.keygen(other)
    found = audit(setup, signing.load_public(other))
    assert found.problems() == [
        f"checkpoint of ledger entry {found.ledger.head_seq}: "
        "signed by another key than the configured public key"
    ]


def test_a_ledger_rewritten_forward_no_longer_extends_the_signed_head(
    setup: Setup, key: Path
) -> None:
    """The thorough insider: rewrites the vote, rechains the case AND the whole ledger
    after it. Every chain is consistent again; only the signed checkpoint tells."""
    case_id = setup.case_in("committee_resolved")
    setup.case_in("cell_resolved")
    sign(setup, key)
    vote = vote_row(setup, case_id)
    rewrite_with_rechain(setup, case_id, vote.seq, '"votes_for":9', '"votes_for":6')
    _rechain_ledger(setup)
    found = audit(setup, signing.load_public(key))
    assert found.cases == [] and found.ledger.intact
    assert [p for p in found.problems()] == [
        f"checkpoint of ledger entry {found.ledger.head_seq}: the ledger no longer extends "
        "the signed head (rewritten after it was signed)"
    ]


def _rechain_ledger(setup: Setup) -> None:
    with setup.engine.session() as session:
        entries = list(session.exec(select(LedgerEntry).order_by(col(LedgerEntry.seq))))
        hashes = {(r.case_id, r.seq): r.hash for r in session.exec(select(HistoryEvent))}
    previous, statements, params = history.GENESIS, [], {}
    for entry in entries:
        entry.history_hash = hashes[(entry.case_id, entry.case_seq)]
        entry.prev_hash = previous
        entry.hash = ledger.entry_hash(entry)
        previous = entry.hash
        statements.append(
            f"UPDATE ledger SET history_hash = :h{entry.seq}, prev_hash = :p{entry.seq}, "
            f"hash = :x{entry.seq} WHERE seq = {entry.seq}"
        )
        params |= {
            f"h{entry.seq}": entry.history_hash,
            f"p{entry.seq}": entry.prev_hash,
            f"x{entry.seq}": entry.hash,
        }
    tamper(setup.engine.database, *statements, **params)


def test_the_export_carries_what_an_auditor_needs(setup: Setup, key: Path) -> None:
    setup.case_in("class_passed")
    sign(setup, key)
    public = signing.load_public(key)
    with setup.engine.session() as session:
        document = json.loads(json.dumps(signing.export(signing.stored(session), public)))
        copies = [signing.from_json(item) for item in document["checkpoints"]]
        assert signing.verify(
            session, signing.public_from_pem(document["public_key"]), copies
        ).intact


# ── the database refuses ──────────────────────────────────────────────────
@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE historyevent SET note = 'sửa' WHERE case_id = :case",
        "DELETE FROM historyevent WHERE case_id = :case",
        "UPDATE ledger SET hash = 'x' WHERE case_id = :case",
        "DELETE FROM ledger WHERE case_id = :case",
        "TRUNCATE ledger",
    ],
)
def test_postgresql_refuses_to_change_the_history(postgres_setup: Setup, statement: str) -> None:
    from sqlalchemy.exc import DBAPIError

    case_id = postgres_setup.case_in("class_passed")
    database = postgres_setup.engine.database
    with pytest.raises(DBAPIError, match="append-only"), database.begin() as connection:
        connection.execute(text(statement), {"case": case_id})
    assert check(postgres_setup, case_id).intact


def test_the_scheduler_signs_the_ledger_often_and_only_when_it_moved(
    setup: Setup, key: Path
) -> None:
    """Rows written after the newest checkpoint are protected by the ledger alone: with
    a key configured, the scheduler signs every [history] checkpoint_minutes."""
    import dataclasses

    from apscheduler.schedulers.background import BackgroundScheduler

    from workflow.config import Config, HistorySettings
    from workflow.models import Checkpoint
    from workflow.reminders import scheduler

    config = dataclasses.replace(
        Config(), history=HistorySettings(signing_key_file=str(key), checkpoint_minutes=30)
    )
    planned = BackgroundScheduler()
    scheduler.configure(planned, setup.engine, config)
    job = planned.get_job(scheduler.CHECKPOINT_JOB)
    assert job is not None and job.trigger.interval.total_seconds() == 30 * 60
    keyless = BackgroundScheduler()
    scheduler.configure(keyless, setup.engine, Config())
    assert keyless.get_job(scheduler.CHECKPOINT_JOB) is None  # no key, nothing to sign with
    sign_now = job.func
    assert sign_now() is None  # an empty ledger: nothing to sign
    setup.case_in("class_passed")
    first = sign_now()
    assert first is not None
    assert sign_now() is None  # a quiet period adds no checkpoint
    setup.case_in("class_passed")
    assert sign_now().ledger_seq > first.ledger_seq
    with setup.engine.session() as session:
        assert len(session.exec(select(Checkpoint)).all()) == 2
    found = audit(setup, signing.load_public(key.with_name("ledger.key.pub")))
    assert found.intact, found
