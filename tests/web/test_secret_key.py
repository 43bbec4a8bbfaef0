"""The shipped secret key no longer forges an admin: a production server (`ketnap serve`
without --dev, gunicorn through web.wsgi, any app whose base_url is https) refuses to
start with an empty, example or short key, and `ketnap init` / `ketnap demo` write a
random key, 0600, to a file outside git that the configuration reads."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier
from itsdangerous import URLSafeTimedSerializer

from cli.main import main
from tests.web.support import DemoTemplate, user
from web.app import create_app
from workflow import config as config_module
from workflow.config import Config, InsecureSecretKey
from workflow.engine import Engine

KETNAP = Path(sys.executable).with_name("ketnap")
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = "dev-only-change-me"
STRONG = "k" * 16 + "3x9Q-vT_Lm2pWz7Rb8Yc0Nd"  # 40 characters


def configured(tmp_path: Path, **web: str) -> Config:
    """The configuration a server would load: no key in the environment, the key file
    in tmp_path (missing unless a test writes it), `web` overriding."""
    environ = {"KETNAP_WEB_SECRET_KEY_FILE": str(tmp_path / "instance" / "secret_key")}
    environ |= {config_module.variable("web", key): value for key, value in web.items()}
    return config_module.load(tmp_path / "no-config.toml", environ=environ)


# ── the configuration ships no usable key ────────────────────────────────
def test_config_toml_ships_no_key_a_server_would_accept() -> None:
    shipped = config_module.load(config_module.DEFAULT_PATH, environ={})
    assert shipped.web["secret_key"] == ""
    assert shipped.web["secret_key_file"] == "instance/secret_key"
    assert SHIPPED not in config_module.DEFAULT_PATH.read_text(encoding="utf-8")


def test_the_key_file_is_ignored_by_git() -> None:
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", "instance/secret_key"], check=False
    )
    assert ignored.returncode == 0


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("", "secret_key_file) does not exist"),  # empty: the key file is read instead
        (SHIPPED, "example key shipped with Ketnap"),
        ("CHANGE-ME-64-random-characters", "example key shipped with Ketnap"),
        ("x" * 31, "has only 31 characters (at least 32"),
    ],
)
def test_a_production_app_refuses_a_weak_key(
    engine: Engine, tmp_path: Path, key: str, says: str
) -> None:
    config = configured(tmp_path, secret_key=key)
    with pytest.raises(InsecureSecretKey) as refused:
        create_app(engine, config, production=True)
    message = str(refused.value)
    assert says in message
    assert "Ketnap không khởi động" in message and "Ketnap will not start" in message
    assert "KETNAP_WEB_SECRET_KEY" in message and "ketnap init" in message


def test_an_https_base_url_means_production_even_without_the_flag(
    engine: Engine, tmp_path: Path
) -> None:
    config = configured(tmp_path, secret_key=SHIPPED, base_url="https://ketnap.example.vn")
    with pytest.raises(InsecureSecretKey):
        create_app(engine, config)
    strong = configured(tmp_path, secret_key=STRONG, base_url="https://ketnap.example.vn")
    assert create_app(engine, strong).config["SECRET_KEY"] == STRONG


def test_a_missing_key_file_is_named_with_the_fix(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(InsecureSecretKey) as refused:
        create_app(engine, configured(tmp_path), production=True)
    message = str(refused.value)
    assert f"{tmp_path}/instance/secret_key, [web] secret_key_file) does not exist" in message
    assert "run `ketnap init`: it writes a random key" in message


def test_outside_production_no_key_means_a_random_one_for_the_process(
    engine: Engine, tmp_path: Path
) -> None:
    first = create_app(engine, configured(tmp_path)).config["SECRET_KEY"]
    second = create_app(engine, configured(tmp_path)).config["SECRET_KEY"]
    assert len(first) >= 32 and first != second


# ── the key file ─────────────────────────────────────────────────────────
def test_the_written_key_is_random_0600_in_a_0700_folder_and_never_replaced(
    tmp_path: Path,
) -> None:
    path = tmp_path / "instance" / "secret_key"
    previous = os.umask(0o022)
    try:
        assert config_module.write_secret_key(path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    key = path.read_text(encoding="utf-8").strip()
    assert len(key) >= 64 and config_module.secret_key_problem(key) is None
    assert not config_module.write_secret_key(path)  # a second init keeps it
    assert path.read_text(encoding="utf-8").strip() == key
    other = tmp_path / "other" / "secret_key"
    config_module.write_secret_key(other)
    assert other.read_text(encoding="utf-8") != path.read_text(encoding="utf-8")


def test_ketnap_init_writes_the_key_the_production_app_then_uses(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "instance" / "secret_key"
    monkeypatch.setenv("KETNAP_WEB_SECRET_KEY_FILE", str(path))
    monkeypatch.delenv("KETNAP_WEB_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path}/k.db"
    result = CliRunner().invoke(
        main, ["init", "--database", url, "--admin-password", "pw-for-the-test"]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote a new random secret key to {path} (mode 0600)" in result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    app = create_app(engine, configured(tmp_path), production=True)
    assert app.config["SECRET_KEY"] == path.read_text(encoding="utf-8").strip()


def test_an_environment_key_wins_and_init_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "instance" / "secret_key"
    monkeypatch.setenv("KETNAP_WEB_SECRET_KEY_FILE", str(path))
    monkeypatch.setenv("KETNAP_WEB_SECRET_KEY", "short")
    url = f"sqlite:///{tmp_path}/k.db"
    result = CliRunner().invoke(
        main, ["init", "--database", url, "--admin-password", "pw-for-the-test"]
    )
    assert result.exit_code == 0, result.output
    assert not path.exists()
    assert "warning: the secret key from [web] secret_key" in result.output


# ── the forged admin of the attack ───────────────────────────────────────
def forged_token(user_id: int, generation: int = 0) -> str:
    """An API token as Ketnap signs it (the session generation is no secret)."""
    payload = {"uid": user_id, "gen": generation}
    return URLSafeTimedSerializer(SHIPPED, salt="ketnap-api-token").dumps(payload)


def forged_session(user_id: int, client: FlaskClient, generation: int = 0) -> str:
    """Flask-Login's session cookie for `user_id`, with the identifier it derives from
    the client's address and agent, signed with the shipped key."""
    forger = Flask("forger")
    forger.config["SECRET_KEY"] = SHIPPED
    signer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert signer is not None
    with forger.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    session_id = f"{user_id}:{generation}"
    return signer.dumps({"_user_id": session_id, "_fresh": True, "_id": identifier})


def test_a_token_and_a_cookie_signed_with_the_shipped_key_no_longer_log_in(
    engine: Engine, tmp_path: Path
) -> None:
    admin = user(engine, "admin").id
    assert admin is not None
    config_module.write_secret_key(tmp_path / "instance" / "secret_key")
    app = create_app(engine, configured(tmp_path), production=True, TESTING=True)
    client = app.test_client()
    token = forged_token(admin)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    client.set_cookie("ketnap_session", forged_session(admin, client))
    page = client.get("/admin/users")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    # …while with the shipped key, as before, the same forgeries were an admin:
    weak = dataclasses.replace(Config(), web={"secret_key": SHIPPED})
    old = create_app(engine, weak, TESTING=True).test_client()
    assert old.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    old.set_cookie("ketnap_session", forged_session(admin, old))
    assert old.get("/admin/users").status_code == 200


# ── the servers themselves ───────────────────────────────────────────────
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nothing_listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETNAP_")}
    env |= {
        "KETNAP_CONFIG": str(tmp_path / "no-config.toml"),
        "KETNAP_DATABASE_URL": f"sqlite:///{tmp_path}/served.db",
        "KETNAP_WEB_SECRET_KEY_FILE": str(tmp_path / "instance" / "secret_key"),
        "KETNAP_SCHEDULER_IN_WEB_PROCESS": "false",
    }
    return env | extra


@pytest.mark.parametrize("key", [SHIPPED, "", None])
def test_ketnap_serve_refuses_to_start_with_a_weak_or_missing_key(
    tmp_path: Path, key: str | None
) -> None:
    env = server_env(tmp_path)
    subprocess.run([str(KETNAP), "init", "--admin-password", "pw"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    (tmp_path / "instance" / "secret_key").unlink()  # init wrote one: take it away
    if key is not None:
        env["KETNAP_WEB_SECRET_KEY"] = key
    port = free_port()
    began = time.monotonic()
    done = subprocess.run(
        [str(KETNAP), "serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "Ketnap will not start" in done.stderr and "Ketnap không khởi động" in done.stderr
    assert "KETNAP_WEB_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Ketnap: http://" not in done.stdout  # nothing was served
    assert nothing_listens(port)
    assert time.monotonic() - began < 30


@pytest.mark.slow
def test_gunicorn_stops_with_the_message_instead_of_serving(tmp_path: Path) -> None:
    env = server_env(tmp_path, KETNAP_WEB_SECRET_KEY=SHIPPED, PYTHONPATH=str(ROOT))
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "web.wsgi:app"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 4, done.stderr[-2000:]  # gunicorn's "App failed to load"
    assert "example key shipped with Ketnap" in done.stderr
    assert "App failed to load" in done.stderr
    assert nothing_listens(port)


def test_make_runs_ketnap_demo_writes_the_key_even_when_the_demo_exists(
    demo_template: DemoTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` is `ketnap demo --if-missing` then `ketnap serve` (production mode):
    the demo writes the key first, also on a clone whose database predates it."""
    path = tmp_path / "instance" / "secret_key"
    monkeypatch.setenv("KETNAP_WEB_SECRET_KEY_FILE", str(path))
    monkeypatch.delenv("KETNAP_WEB_SECRET_KEY", raising=False)
    database = tmp_path / "ketnap.db"
    shutil.copyfile(demo_template.path, database)
    result = CliRunner().invoke(
        main, ["demo", "--if-missing", "--database", f"sqlite:///{database}"]
    )
    assert result.exit_code == 0, result.output
    assert "Demo data already present." in result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config_module.require_strong_secret_key(configured(tmp_path))  # serve would start
