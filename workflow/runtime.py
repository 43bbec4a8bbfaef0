"""Builds the engine from configuration: one place that wires database, rules and clock."""

from __future__ import annotations

from datetime import date

from workflow import config as config_module
from workflow import db
from workflow.clock import Clock, FixedClock, SystemClock
from workflow.config import Config
from workflow.engine import Engine


def clock_for(now: str | date | None) -> Clock:
    """The system clock, or a fixed one for `--now YYYY-MM-DD` time travel."""
    if now is None:
        return SystemClock()
    day = now if isinstance(now, date) else date.fromisoformat(now)
    return FixedClock.on(day)


def build(
    database_url: str | None = None, now: str | date | None = None, config: Config | None = None
) -> Engine:
    config = config or config_module.load()
    database = db.connect(
        database_url or config.database_url, synchronous=config.sqlite_synchronous
    )
    return Engine(database, config.rules, clock_for(now))
