"""Running the reminder sweep on a schedule (APScheduler 3).

Two jobs on the scheduler: the sweep every `[scheduler] sweep_minutes` (default 15),
and one sweep at start-up, so reminders that fell due while the machine was off are
caught up at once. A third runs the queued imports every `[imports] poll_seconds`
(workflow/exchange/jobs.py): uploads are imported here, not in a web worker. With a
signing key configured, a fourth signs the history ledger's head every `[history]
checkpoint_minutes` (workflow/history/signing.py). `coalesce=True` folds the runs a sleeping laptop or a stopped
server missed into one; a generous `misfire_grace_time` runs that one late instead of
skipping it; `max_instances=1` (and a lock around the sweep) never lets two sweeps of
one process overlap.

Where it runs — `[scheduler] in_web_process`:

- true (the default; `make run`'s single process): the web process starts a
  BackgroundScheduler (`start_in_background`);
- false: deployments with several web workers run ONE `ketnap scheduler` process
  (a BlockingScheduler, `run_blocking`) and the web processes do not schedule.

Why not let every process schedule and share the jobs through a database job store?
An APScheduler 3 job store cannot be shared between processes: each scheduler keeps
its own idea of when every job runs next, reads the store without locking, and nothing
tells it that another process has run (or changed) a job — so every process sharing
the store runs every job, and they overwrite each other's next-run times (the
APScheduler 3 FAQ: "How do I share a single job store among one or more worker
processes?" — "Short answer: You can't"). Each scheduler here therefore keeps its jobs
in memory, and one process schedules. Were two to sweep anyway (a misconfiguration, or
the web process and a manual `ketnap remind`), nothing is sent twice: each reminder's
unique key is inserted before delivery and each e-mail is claimed before it is sent
(workflow.reminders.sweep, workflow.reminders.delivery) — the spare sweep only costs a query.
"""

from __future__ import annotations

import atexit
import logging
import signal
import threading
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workflow import config as config_module
from workflow.config import Config
from workflow.engine import Engine
from workflow.exchange import jobs
from workflow.history import signing
from workflow.models import Checkpoint
from workflow.ops import integrity
from workflow.reminders.sweep import SweepResult, sweep

log = logging.getLogger("ketnap.scheduler")

SWEEP_JOB = "ketnap-sweep"
STARTUP_JOB = "ketnap-sweep-at-start"
DEFAULT_SWEEP_MINUTES = 15
IMPORTS_JOB = "ketnap-imports"
DEFAULT_IMPORT_SECONDS = 5.0
CHECKPOINT_JOB = "ketnap-checkpoint"
INTEGRITY_JOB = "ketnap-integrity"


def sweep_minutes(config: Config) -> float:
    return float(config.scheduler.get("sweep_minutes", DEFAULT_SWEEP_MINUTES))


def in_web_process(config: Config) -> bool:
    """Whether the web process runs the sweep (false: `ketnap scheduler` does)."""
    return bool(config.scheduler.get("in_web_process", True))


class SweepJob:
    """The scheduled callable: one sweep at a time; a failure is logged, never fatal."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine, self.config = engine, config
        self._lock = threading.Lock()
        self.last: SweepResult | None = None

    def __call__(self) -> SweepResult | None:
        if not self._lock.acquire(blocking=False):
            return None  # the start-up sweep and an interval one met: one is enough
        try:
            # An exception is logged by APScheduler (EVENT_JOB_ERROR); the next run retries.
            result = sweep(self.engine, self.config)
        finally:
            self._lock.release()
        self.last = result
        log.info("%s; %s", result.summary(), result.delivery.summary())
        return result


class ImportsJob:
    """The scheduled import runner: every `[imports] poll_seconds`, remove week-old job
    files and run the queued imports (workflow/exchange/jobs.py). Each job is claimed
    in the database, so a second scheduler or `ketnap imports run` never doubles one."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine, self.settings = engine, jobs.Settings.of(config.imports)

    def __call__(self) -> int:
        return jobs.tick(self.engine, self.settings)


class IntegrityJob:
    """The auditors' whole-subtree integrity checks (workflow/ops/integrity.py), run as
    they are asked for, every `[imports] poll_seconds`; each is claimed in the database."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine, self.history = engine, config.history

    def __call__(self) -> int:
        try:
            public = signing.configured_public(self.history)
        except signing.SigningKeyError:
            log.warning("integrity checks: the configured key cannot be read", exc_info=True)
            public = None
        return integrity.tick(self.engine, public)


class CheckpointJob:
    """The periodic signature of the ledger's head, so that rows written since are soon
    covered by a signed checkpoint (deploy/README.md: "sign often")."""

    def __init__(self, engine: Engine, key: Ed25519PrivateKey) -> None:
        self.engine, self.key = engine, key

    def __call__(self) -> Checkpoint | None:
        with self.engine.session() as session:
            signed = signing.sign_if_moved(session, self.key, self.engine.clock.now())
            session.commit()
        if signed is not None:
            log.info("signed ledger head %s", signed.ledger_seq)
        return signed


def configure(scheduler: BaseScheduler, engine: Engine, config: Config) -> SweepJob:
    """Add the interval sweep, the start-up catch-up sweep and the import runner to
    `scheduler`."""
    minutes = sweep_minutes(config)
    job = SweepJob(engine, config)
    scheduler.add_job(job, "interval", minutes=minutes, id=SWEEP_JOB, replace_existing=True)
    scheduler.add_job(job, "date", id=STARTUP_JOB, replace_existing=True)  # now
    seconds = float(config.imports.get("poll_seconds", DEFAULT_IMPORT_SECONDS))
    imports = ImportsJob(engine, config)
    scheduler.add_job(imports, "interval", seconds=seconds, id=IMPORTS_JOB, replace_existing=True)
    checks = IntegrityJob(engine, config)
    scheduler.add_job(checks, "interval", seconds=seconds, id=INTEGRITY_JOB, replace_existing=True)
    key = signing.configured_private(config.history)
    if key is not None:
        minutes = config.history.checkpoint_minutes
        checkpoints = CheckpointJob(engine, key)
        scheduler.add_job(
            checkpoints, "interval", minutes=minutes, id=CHECKPOINT_JOB, replace_existing=True
        )
    return job


def _options(config: Config) -> dict[str, Any]:
    minutes = sweep_minutes(config)
    return {
        "timezone": "UTC",
        "job_defaults": {
            "coalesce": True,
            "max_instances": 1,
            # A run missed by up to a day (a laptop asleep overnight) still happens once.
            "misfire_grace_time": int(max(minutes * 60 * 4, 24 * 3600)),
        },
    }


def start_in_background(engine: Engine, config: Config | None = None) -> BackgroundScheduler:
    """Start the sweep in this process's background (the web process; `config`
    defaults to config.toml). Call `scheduler.shutdown()` to stop it; it is also
    stopped at interpreter exit. The caller checks `in_web_process(config)` first."""
    config = config or config_module.load()
    scheduler = BackgroundScheduler(**_options(config))
    configure(scheduler, engine, config)
    scheduler.start()
    atexit.register(_shutdown_quietly, scheduler)
    return scheduler


def run_blocking(engine: Engine, config: Config) -> None:
    """Run the sweep schedule in the foreground until SIGINT or SIGTERM (`ketnap
    scheduler`); a sweep under way finishes before it returns."""
    scheduler = BlockingScheduler(**_options(config))
    configure(scheduler, engine, config)

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)  # start() returns; its executor then drains

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    scheduler.start()


def _shutdown_quietly(scheduler: BaseScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=True)
