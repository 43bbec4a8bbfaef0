"""Configuration: config.toml, overridden by environment variables KETNAP_<SECTION>_<KEY>.

`Settings` declares every key with its type and default, so an environment variable
works with or without a file (KETNAP_DATABASE_URL, KETNAP_WEB_RATELIMIT_STORAGE …)
and a bad value is refused naming its key. `load()` returns `Config`, what the rest
of the code reads.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config.toml"


class ConfigError(ValueError):
    """A key or value in config.toml or the environment that Ketnap cannot use."""


@dataclass(frozen=True)
class RuleParameters:
    """Every number of PROCESS.md, with its defaults. Sources are in config.toml."""

    sponsor_shared_months: int = 12
    youth_age: int = 30
    min_age: int = 18
    max_age: int = 60
    cell_quorum: int = 3
    certificate_valid_months: int = 60
    certificate_warn_days: tuple[int, ...] = (90, 30)
    verification_reply_days: int = 30
    decision_working_days: int = 60
    decision_extension_working_days: int = 30
    ceremony_working_days: int = 30
    theory_class_months: int = 9
    probation_months: int = 12
    probation_papers_warn_days: tuple[int, ...] = (60, 30)
    confirmation_vote_working_days: int = 30
    confirmation_decision_working_days: int = 30
    confirmation_decision_extension_working_days: int = 30
    confirm_vote_attempts: int = 3
    escalate_after_days: int = 7
    upcoming_warn_days: tuple[int, ...] = (10,)


@dataclass(frozen=True)
class SmtpSettings:
    """[smtp]: where reminder e-mails go (off until enabled)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: str = ""
    sender: str = "ketnap@localhost"


class _Section(BaseModel):
    """A [section] of config.toml: a key it does not declare is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///ketnap.db"


class WebSettings(_Section):
    """[web]: the server, cookies, sign-in limits (flask-limiter syntax and storage URI)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = "dev-only-change-me"
    base_url: str = "http://127.0.0.1:8000"
    default_locale: Literal["vi", "en"] = "vi"
    secure_cookies: bool = False
    login_limit: str = "10 per 5 minutes"
    page_size: PositiveInt = 25
    ratelimit_storage: str = "memory://"


class SchedulerSettings(_Section):
    """[scheduler]: the reminder sweep, in the web process or as `ketnap scheduler`."""

    in_web_process: bool = True
    sweep_minutes: PositiveFloat = 15.0
    digest_hour: int = Field(default=7, ge=0, le=23)


class ImportsSettings(_Section):
    """[imports]: uploaded import files, queued and run by the scheduler (or `ketnap
    imports run`), never by a web worker; every cap is checked before a row is parsed."""

    dir: str = ""  # the jobs' files (0600); "" = <system temp>/ketnap-imports
    max_upload_mb: PositiveInt = 50  # the page says this; Flask refuses more (413)
    max_unpacked_mb: PositiveInt = 256  # an .xlsx's members, uncompressed, summed
    max_rows: PositiveInt = 200_000
    max_errors: PositiveInt = 10_000  # rejected rows' messages kept; the rest counted
    per_user: PositiveInt = 2  # a user's jobs queued or running at once
    keep_days: PositiveInt = 7  # a job's files are removed after this
    poll_seconds: PositiveFloat = 5.0  # how often the scheduler looks for queued jobs


@dataclass(frozen=True)
class Config:
    """What the code reads. `load()` fills `web`, `scheduler` and `imports` with every key of
    their section, validated; a test may build one with only the keys it needs."""

    database_url: str = DatabaseSettings().url
    rules: RuleParameters = field(default_factory=RuleParameters)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    web: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)


class Settings(BaseSettings):
    """Every section of config.toml, typed. Build it with `load()`, which names the
    sources: the environment first, then the file."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    imports: ImportsSettings = Field(default_factory=ImportsSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    rules: RuleParameters = Field(default_factory=RuleParameters)


class Environment(PydanticBaseSettingsSource):
    """KETNAP_<SECTION>_<KEY> for every key `Settings` declares; a list is written
    "90,30". pydantic-settings' own environment source reads only os.environ and
    splits nested names on every "_", which keys such as secret_key contain."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads whole sections

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for section, defaults in _sections().items():
            for key, default in defaults.items():
                text = self.environ.get(variable(section, key))
                if text is not None:
                    found.setdefault(section, {})[key] = _parse(text, default)
        return found


def variable(section: str, key: str) -> str:
    """The environment variable that overrides [section] key."""
    return f"KETNAP_{section}_{key}".upper()


def _sections() -> dict[str, dict[str, Any]]:
    """Each section's keys with their defaults."""
    sections: dict[str, dict[str, Any]] = {}
    for name, info in Settings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            sections[name] = default.model_dump()
        else:
            sections[name] = dataclasses.asdict(default)
    return sections


def _parse(text: str, default: Any) -> Any:
    if isinstance(default, tuple):
        return [part.strip() for part in text.strip().strip("[]").split(",") if part.strip()]
    return text


def load(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read config.toml (or `path`, or $KETNAP_CONFIG; a missing file is all defaults),
    then the environment's overrides."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("KETNAP_CONFIG") or DEFAULT_PATH)
    try:
        sources = (Environment(Settings, environ), TomlConfigSettingsSource(Settings, path))
        settings = Settings(_build_sources=(sources, {}))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    except ValidationError as error:
        raise ConfigError(_explain(error, path)) from error
    return Config(
        database_url=settings.database.url,
        rules=settings.rules,
        smtp=settings.smtp,
        web=settings.web.model_dump(),
        scheduler=settings.scheduler.model_dump(),
        imports=settings.imports.model_dump(),
    )


UNKNOWN = {"extra_forbidden", "unexpected_keyword_argument"}


def _explain(error: ValidationError, path: Path) -> str:
    """One line per bad key: where it is set, the value, what is wrong."""
    lines = [f"Cấu hình sai / bad configuration ({path} or the environment):"]
    for problem in error.errors():
        section, *rest = map(str, problem["loc"])
        if not rest:
            lines.append(f"  [{section}]: unknown section")
            continue
        key, *item = rest
        where = f"[{section}] {key}" + "".join(f"[{part}]" for part in item)
        if problem["type"] in UNKNOWN:
            lines.append(f"  {where}: unknown key")
        else:
            value = problem["input"]
            name = variable(section, key)
            lines.append(f"  {where} = {value!r} ({name}): {problem['msg']}")
    return "\n".join(lines)
