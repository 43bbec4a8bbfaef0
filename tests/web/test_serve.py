"""`ketnap serve` runs a production server (waitress); `--dev` is werkzeug's; and the
CLI loads neither Flask nor the engine just to list its commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main

KETNAP = Path(sys.executable).with_name("ketnap")


def test_the_cli_imports_neither_flask_nor_the_engine_to_list_its_commands() -> None:
    heavy = ("flask", "web", "sqlmodel", "sqlalchemy", "workflow.engine", "openpyxl", "pydantic")
    code = f"import sys, cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_serve_offers_host_port_database_and_dev() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--database", "--dev"):
        assert option in result.output


def test_serve_refuses_an_uninitialised_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["serve", "--database", f"sqlite:///{tmp_path}/empty.db", "--port", "1"]
    )
    assert result.exit_code != 0
    assert "ketnap init" in str(result.output) + str(result.exception)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, deadline: float) -> int:
    """The status of GET `url`, retried while the server starts."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _serve(tmp_path: Path, *options: str) -> tuple[int, str, int]:
    """Start `ketnap serve` on a fresh database and a free port, GET /login, stop it:
    the status, everything it printed, and the port."""
    url = f"sqlite:///{tmp_path}/served.db"
    # `ketnap init` writes the secret key that the production server insists on
    env = dict(
        os.environ,
        KETNAP_CONFIG=str(tmp_path / "no-config.toml"),
        KETNAP_WEB_SECRET_KEY_FILE=str(tmp_path / "instance" / "secret_key"),
    )
    env.pop("KETNAP_WEB_SECRET_KEY", None)
    subprocess.run(
        [str(KETNAP), "init", "--database", url, "--admin-password", "pw-for-the-test"],
        check=True,
        capture_output=True,
        env=env,
    )
    port = _free_port()
    server = subprocess.Popen(
        [str(KETNAP), "serve", "--database", url, "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # --dev's reloader serves from a child: stop both
    )
    try:
        status = _get(f"http://127.0.0.1:{port}/login", time.monotonic() + 60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    return status, output, port


@pytest.mark.slow
def test_serve_answers_over_a_socket_without_a_development_server_warning(tmp_path: Path) -> None:
    status, output, port = _serve(tmp_path)
    assert status == 200, output
    assert f"Ketnap: http://127.0.0.1:{port}" in output
    assert "development server" not in output.lower()
    assert output.count("reminder sweep running in the web process") == 1


@pytest.mark.slow
def test_serve_dev_is_werkzeug_with_the_reloader_and_one_sweep(tmp_path: Path) -> None:
    status, output, port = _serve(tmp_path, "--dev")
    assert status == 200, output
    assert f"Ketnap (development): http://127.0.0.1:{port}" in output
    assert "development server" in output.lower()
    assert "Restarting with" in output  # the reloader's watching parent
    assert output.count("reminder sweep running in the web process") == 1


def test_the_wsgi_module_builds_the_app(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KETNAP_DATABASE_URL", f"sqlite:///{tmp_path}/wsgi.db")
    monkeypatch.setenv("KETNAP_WEB_SECRET_KEY", "a-test-key-of-more-than-32-characters")
    code = "import flask, web.wsgi; print(isinstance(web.wsgi.app, flask.Flask))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"
