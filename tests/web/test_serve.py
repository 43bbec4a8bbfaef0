"""`ketnap serve` exists and the engine's CLI does not load Flask to offer it."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from cli.main import main


def test_the_engine_cli_does_not_import_flask() -> None:
    code = "import sys, cli.main; print('flask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_serve_offers_host_port_and_database() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--database"):
        assert option in result.output


def test_serve_refuses_an_uninitialised_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["serve", "--database", f"sqlite:///{tmp_path}/empty.db", "--port", "1"]
    )
    assert result.exit_code != 0
    assert "ketnap init" in str(result.output) + str(result.exception)


def test_the_wsgi_module_builds_the_app(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KETNAP_DATABASE_URL", f"sqlite:///{tmp_path}/wsgi.db")
    code = "import web.wsgi; print(type(web.wsgi.app).__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "Flask"
