"""The machine the figures were measured on: they mean nothing without it."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from pathlib import Path

import sqlalchemy as sa


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def postgres_version(url: str | None) -> str:
    if not url:
        return "not used"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SHOW server_version")).scalar_one())
    except Exception as error:
        return f"unavailable ({type(error).__name__})"
    finally:
        engine.dispose()


def describe(postgres_url: str | None) -> list[tuple[str, str]]:
    return [
        ("CPU", f"{cpu_model()} — {os.cpu_count()} cores (nproc)"),
        ("RAM", f"{ram_gib():.1f} GiB"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", sys.version.split()[0]),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", postgres_version(postgres_url)),
        ("SQLAlchemy", sa.__version__),
    ]
