"""Two sweeps at once against one PostgreSQL database — threads, forked processes and
`ketnap remind` processes — round after round: every reminder is recorded once, lands
once in each inbox, and each e-mail reaches the SMTP peer once."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from tests.reminders.conftest import BASE_URL, Town
from tests.support.smtp import SmtpPeer
from workflow import db
from workflow.clock import FixedClock
from workflow.config import Config, RuleParameters
from workflow.engine import Engine
from workflow.models import InboxItem, Reminder
from workflow.reminders.sweep import sweep as run_sweep

BASE = date(2026, 3, 2)
ROUNDS = 20
STEP = timedelta(days=4)


def populate(town: Town) -> None:
    """Cases in every cell whose deadlines change stage during the rounds."""
    for n, cell in enumerate(town.world.cell_ids):
        town.case_in("admission_decided", BASE - timedelta(days=3 * n), cell=cell)
        town.case_in("probationary", BASE - timedelta(days=330 - 3 * n), cell=cell)
        town.case_in("dossier_complete", BASE - timedelta(days=20 + n), cell=cell)
        town.case_in("cell_resolved", BASE - timedelta(days=60 + 5 * n), cell=cell)


def engine_on(url: str, day: date) -> Engine:
    return Engine(db.connect(url), RuleParameters(), FixedClock.on(day))


def run_rounds(
    town: Town, first: date, rounds: int, both: Callable[[date], tuple[int, int]]
) -> int:
    """Each round: a dry run says how many reminders are due; two concurrent sweeps
    (`both`) must send exactly that many between them. Returns the total."""
    total = 0
    for n in range(rounds):
        day = first + n * STEP
        expected = town.sweep(day, dry_run=True).count
        town.engine.database.dispose()  # no pooled connection crosses a fork
        one, two = both(day)
        assert one + two == expected, f"round {n} ({day}): {one} + {two} != {expected}"
        assert town.sweep(day, dry_run=True).count == 0
        total += expected
    return total


def check_delivered_once(town: Town, smtp: SmtpPeer) -> None:
    deliveries = town.deliveries()
    assert deliveries and all(d.status == "sent" for d in deliveries)
    # every delivery is named in exactly one message the peer received
    named = Counter(
        int(i) for m in smtp.messages for i in str(m.message["X-Ketnap-Deliveries"]).split(",")
    )
    assert named == Counter(d.id for d in deliveries)
    assert len(smtp.messages) == len(deliveries)  # no digest users: one mail each
    # one inbox item per (reminder, person): the unique key, and nobody left out
    with town.engine.session() as session:
        pairs = [(i.reminder_id, i.user_id) for i in session.exec(select(InboxItem))]
        reminder_ids = set(session.exec(select(Reminder.id)))
    assert len(pairs) == len(set(pairs))
    assert {rid for rid, _ in pairs} <= reminder_ids
    assert len(pairs) == len(deliveries)  # every demo user has an e-mail address


def threads(town: Town) -> Callable[[date], tuple[int, int]]:
    """Two sweeps started together in two threads, each with its own engine."""
    url = town.engine.database.url.render_as_string(hide_password=False)

    def both(day: date) -> tuple[int, int]:
        engines = [engine_on(url, day), engine_on(url, day)]
        start = threading.Barrier(2)
        counts: list[int] = [0, 0]
        errors: list[BaseException] = []

        def sweep(n: int) -> None:
            try:
                start.wait()
                counts[n] = run_sweep(engines[n], town.config).count
            except BaseException as error:  # reported below, in the test's thread
                errors.append(error)

        threads = [threading.Thread(target=sweep, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for engine in engines:
            engine.database.dispose()
        assert not errors, errors
        return counts[0], counts[1]

    return both


@pytest.mark.postgres
@pytest.mark.slow
def test_two_sweeps_in_threads_deliver_every_reminder_once(pg_town: Town, smtp: SmtpPeer) -> None:
    town = pg_town
    town.mail_through(smtp)
    populate(town)
    total = run_rounds(town, BASE, ROUNDS, threads(town))
    assert total >= 40  # the rounds did race over many reminders
    check_delivered_once(town, smtp)


def test_two_sweeps_in_threads_deliver_every_reminder_once_on_sqlite(
    town: Town, smtp: SmtpPeer
) -> None:
    town.mail_through(smtp)
    populate(town)
    total = run_rounds(town, BASE, ROUNDS, threads(town))
    assert total >= 40
    check_delivered_once(town, smtp)


def _sweep_in_child(url: str, day: date, config: Config, start: Any, counts: Any) -> None:
    engine = engine_on(url, day)
    start.wait()
    counts.put(run_sweep(engine, config).count)
    engine.database.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_two_sweeps_in_separate_processes_deliver_every_reminder_once(
    pg_town: Town, smtp: SmtpPeer, tmp_path: Path
) -> None:
    town = pg_town
    town.mail_through(smtp)
    populate(town)
    url = town.engine.database.url.render_as_string(hide_password=False)
    fork = multiprocessing.get_context("fork")

    def forked(day: date) -> tuple[int, int]:
        start, counts = fork.Barrier(2), fork.Queue()
        children = [
            fork.Process(target=_sweep_in_child, args=(url, day, town.config, start, counts))
            for _ in (0, 1)
        ]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=120)
        assert [child.exitcode for child in children] == [0, 0]
        return counts.get(timeout=5), counts.get(timeout=5)

    total = run_rounds(town, BASE, ROUNDS, forked)
    assert total >= 40

    # The command itself, twice at once: `ketnap remind` in two processes.
    config = tmp_path / "config.toml"
    config.write_text(
        f'[web]\nbase_url = "{BASE_URL}"\n'
        f'[smtp]\nenabled = true\nhost = "127.0.0.1"\nport = {smtp.port}\n'
        'sender = "ketnap@test"\n',
        encoding="utf-8",
    )
    environment = dict(os.environ, KETNAP_CONFIG=str(config))
    ketnap = [str(Path(sys.executable).with_name("ketnap")), "remind", "--database", url]

    def commands(day: date) -> tuple[int, int]:
        runs = [
            subprocess.Popen(
                [*ketnap, "--now", day.isoformat()],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in (0, 1)
        ]
        outputs = [run.communicate(timeout=180) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        last_lines = [out.strip().splitlines()[-1] for out, _ in outputs]
        counts = [int(line.split()[0]) for line in last_lines]
        assert all(
            line == f"{n} reminders sent" for line, n in zip(last_lines, counts, strict=True)
        )
        return counts[0], counts[1]

    # two rounds: each process pays the whole import of the application
    assert run_rounds(town, BASE + ROUNDS * STEP, 2, commands) > 0
    check_delivered_once(town, smtp)
