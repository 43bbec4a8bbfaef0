"""Configuration: every key has a default, the environment overrides it with or without
config.toml, and a value that does not fit is refused naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from workflow import config, db, runtime
from workflow.config import ConfigError, RuleParameters

SHIPPED = config.DEFAULT_PATH


def _load(tmp_path: Path, text: str | None = None, **environ: str) -> config.Config:
    path = tmp_path / "config.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return config.load(path, environ)


def test_without_a_file_every_key_has_its_default(tmp_path: Path) -> None:
    loaded = _load(tmp_path)
    assert loaded.database_url == "sqlite:///ketnap.db"
    assert loaded.rules.sets == (RuleParameters(),)
    assert loaded.web["port"] == 8000
    assert loaded.web["ratelimit_storage"] == "memory://"
    assert loaded.scheduler == {"in_web_process": True, "sweep_minutes": 15.0, "digest_hour": 7}
    assert loaded.smtp.enabled is False


def test_the_shipped_file_loads() -> None:
    loaded = config.load(SHIPPED, {})
    assert loaded.rules.sets == (RuleParameters(),)  # the shipped set, as in the code
    assert loaded.web["default_locale"] == "vi"


def test_an_environment_variable_overrides_without_a_file(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        KETNAP_DATABASE_URL="postgresql+psycopg://ketnap@127.0.0.1/ketnap",
        KETNAP_WEB_SECRET_KEY="s3cret",
        KETNAP_WEB_RATELIMIT_STORAGE="memory://?from=env",
        KETNAP_SCHEDULER_IN_WEB_PROCESS="false",
        KETNAP_SMTP_PORT="587",
        KETNAP_RULES_YOUTH_AGE="31",
        KETNAP_RULES_CERTIFICATE_WARN_DAYS="120, 60",
    )
    assert loaded.database_url == "postgresql+psycopg://ketnap@127.0.0.1/ketnap"
    assert loaded.web["secret_key"] == "s3cret"
    assert loaded.web["ratelimit_storage"] == "memory://?from=env"
    assert loaded.scheduler["in_web_process"] is False
    assert loaded.smtp.port == 587
    assert loaded.rules.earliest.youth_age == 31
    assert loaded.rules.earliest.certificate_warn_days == (120, 60)


def test_the_environment_wins_over_the_file_and_the_file_over_defaults(tmp_path: Path) -> None:
    text = '[database]\nurl = "sqlite:///from-file.db"\n[web]\npage_size = 50\n'
    assert _load(tmp_path, text).database_url == "sqlite:///from-file.db"
    loaded = _load(tmp_path, text, KETNAP_DATABASE_URL="sqlite:///from-env.db")
    assert loaded.database_url == "sqlite:///from-env.db"
    assert loaded.web["page_size"] == 50
    assert loaded.web["host"] == "127.0.0.1"


def test_ketnap_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("[rules]\ncell_quorum = 5\n", encoding="utf-8")
    monkeypatch.setenv("KETNAP_CONFIG", str(path))
    assert config.load().rules.earliest.cell_quorum == 5


@pytest.mark.parametrize(
    ("text", "environ", "named"),
    [
        ("", {"KETNAP_WEB_PORT": "eighty"}, ["[web] port", "KETNAP_WEB_PORT", "'eighty'"]),
        ("", {"KETNAP_SMTP_ENABLED": "maybe"}, ["[smtp] enabled", "KETNAP_SMTP_ENABLED"]),
        ("[scheduler]\ndigest_hour = 24\n", {}, ["[scheduler] digest_hour", "24"]),
        ("[rules]\nyuoth_age = 30\n", {}, ["[rules] yuoth_age: unknown key"]),
        ("[web]\nsecret = 'x'\n", {}, ["[web] secret: unknown key"]),
        ("[webb]\nport = 1\n", {}, ["[webb]: unknown section"]),
        ("", {"KETNAP_RULES_UPCOMING_WARN_DAYS": "10,x"}, ["[rules] upcoming_warn_days[1]"]),
    ],
)
def test_a_bad_value_names_its_key(
    tmp_path: Path, text: str, environ: dict[str, str], named: list[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text, **environ)
    for words in named:
        assert words in str(raised.value)


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        _load(tmp_path, "[rules\n")


def test_the_cli_says_which_key_is_bad_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETNAP_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("KETNAP_WEB_PAGE_SIZE", "-1")
    result = CliRunner().invoke(main, ["verify", "--database", f"sqlite:///{tmp_path}/k.db"])
    assert result.exit_code == 1
    assert "[web] page_size = '-1' (KETNAP_WEB_PAGE_SIZE)" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_ketnap_web_trusted_proxies_and_login_limit_reach_the_app(tmp_path: Path) -> None:
    from web.app import create_app
    from workflow import logins

    settings = _load(
        tmp_path, KETNAP_WEB_TRUSTED_PROXIES="1", KETNAP_WEB_LOGIN_LIMIT="2 per minute"
    )
    assert settings.web["trusted_proxies"] == 1
    engine = runtime.build(f"sqlite:///{tmp_path}/limited.db", config=settings)
    db.migrate(engine.database)
    app = create_app(engine, settings, TESTING=True, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    statuses = [
        client.post(
            "/login", data={"username": "nobody", "password": "x"}, headers=forwarded
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    assert logins.attempts(engine, "address:203.0.113.9") == 3
    engine.database.dispose()
