"""A deployment on one PostgreSQL: gunicorn with 2 workers, `ketnap scheduler` as its own
process, a real SMTP peer — all started by the test, all stopped after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.web import gunicorn
from tests.support.postgres import create_database, drop_database, postgres_server_url
from tests.support.smtp import SmtpPeer
from workflow import db
from workflow.clock import SystemClock
from workflow.config import RuleParameters
from workflow.engine import Engine
from workflow.ops import demo

ROOT = Path(__file__).resolve().parents[2]
KETNAP = Path(sys.executable).parent / "ketnap"  # the console script of this venv


@dataclass
class Deployment:
    url: str
    port: int
    engine: Engine  # the test's own engine: setup and checks, never the code under test
    world: demo.World
    smtp: SmtpPeer
    env: dict[str, str]  # what every Ketnap process of the deployment is configured with

    def ketnap(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(KETNAP), *args, "--database", self.url],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    url = create_database(postgres_server_url())
    engine = Engine(db.connect(url), RuleParameters(), SystemClock())
    try:
        db.migrate(engine.database)
        world = demo.populate(engine)
        with SmtpPeer() as smtp:
            env = {
                "KETNAP_DATABASE_URL": url,
                "KETNAP_SMTP_ENABLED": "true",
                "KETNAP_SMTP_HOST": smtp.host,
                "KETNAP_SMTP_PORT": str(smtp.port),
                "KETNAP_SCHEDULER_IN_WEB_PROCESS": "false",
                "KETNAP_SCHEDULER_SWEEP_MINUTES": "1",
                "PYTHONPATH": str(ROOT),
            }
            with gunicorn(url, workers=2, threads=4, extra_env=env) as (port, _master):
                deployed = Deployment(url, port, engine, world, smtp, env)
                scheduler = deployed.ketnap("scheduler")
                try:
                    yield deployed
                finally:
                    scheduler.send_signal(signal.SIGTERM)
                    _, errors = scheduler.communicate(timeout=60)
                    assert scheduler.returncode == 0, errors[-2000:]
    finally:
        engine.database.dispose()
        drop_database(url)
