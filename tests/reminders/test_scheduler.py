"""The scheduler: a sweep at start-up, clean shutdown, catching up after downtime; and
`ketnap scheduler` as its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from tests.reminders.conftest import Town
from workflow.models import Reminder
from workflow.reminders import scheduler

WAIT = 120.0  # seconds: generous, the machine is shared; nothing here measures speed


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


def stages_of(town: Town, case_id: int) -> list[str]:
    return [r.stage for r in town.reminders() if r.case_id == case_id]


def test_the_scheduler_sweeps_at_start_up_and_shuts_down_cleanly(town: Town) -> None:
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    town.clock.advance_to(date(2026, 3, 13))  # 10 days before the ceremony deadline

    running = scheduler.start_in_background(town.engine, town.config)
    try:
        wait_until(lambda: stages_of(town, case_id) == ["upcoming"], "the start-up sweep")
        job = running.get_job(scheduler.SWEEP_JOB)
        assert job is not None
        assert job.trigger.interval == timedelta(minutes=15)
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 3600
    finally:
        running.shutdown(wait=True)
    assert not running.running
    assert not [t for t in threading.enumerate() if t.name == "APScheduler"]


def test_a_restart_after_downtime_catches_up(town: Town) -> None:
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    town.clock.advance_to(date(2026, 3, 13))
    first = scheduler.start_in_background(town.engine, town.config)
    wait_until(lambda: stages_of(town, case_id) == ["upcoming"], "the first sweep")
    first.shutdown(wait=True)

    town.clock.advance_to(date(2026, 3, 25))  # eleven days later: overdue since the 24th
    second = scheduler.start_in_background(town.engine, town.config)
    try:
        wait_until(lambda: len(stages_of(town, case_id)) == 2, "the catch-up sweep")
    finally:
        second.shutdown(wait=True)
    assert stages_of(town, case_id) == ["upcoming", "overdue"]


def test_ketnap_scheduler_runs_standalone_until_terminated(town: Town, tmp_path: Path) -> None:
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    url = town.engine.database.url.render_as_string(hide_password=False)
    config = tmp_path / "config.toml"
    config.write_text("[scheduler]\nsweep_minutes = 60\n", encoding="utf-8")
    ketnap = Path(sys.executable).with_name("ketnap")
    process = subprocess.Popen(
        [str(ketnap), "scheduler", "--database", url, "--now", "2026-03-24"],
        env=dict(os.environ, KETNAP_CONFIG=str(config)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: stages_of(town, case_id) == ["overdue"], "the standalone sweep")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=WAIT)
    assert process.returncode == 0, output
    assert "every 60 minutes" in output and "Ketnap scheduler stopped" in output
    assert "1 reminders sent" in output
    assert town.count(Reminder) == 1
