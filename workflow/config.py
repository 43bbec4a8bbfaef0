"""config.toml plus environment overrides (KETNAP_<SECTION>_<KEY>)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config.toml"


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

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> RuleParameters:
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"unknown rule parameter(s) in [rules]: {', '.join(sorted(unknown))}")
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**converted)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SmtpSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: str = ""
    sender: str = "ketnap@localhost"


@dataclass(frozen=True)
class Config:
    database_url: str = "sqlite:///ketnap.db"
    rules: RuleParameters = field(default_factory=RuleParameters)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    web: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)


def load(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read config.toml (or `path`, or $KETNAP_CONFIG), then apply environment overrides."""
    environ = dict(os.environ) if environ is None else environ
    path = Path(path or environ.get("KETNAP_CONFIG") or DEFAULT_PATH)
    raw: dict[str, Any] = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    _apply_environment(raw, environ)
    database = raw.get("database", {})
    return Config(
        database_url=database.get("url", Config.database_url),
        rules=RuleParameters.from_mapping(raw.get("rules", {})),
        smtp=SmtpSettings(**raw.get("smtp", {})),
        web=raw.get("web", {}),
        scheduler=raw.get("scheduler", {}),
    )


def _apply_environment(raw: dict[str, Any], environ: dict[str, str]) -> None:
    for section, values in raw.items():
        if not isinstance(values, dict):
            continue
        for key, current in values.items():
            override = environ.get(f"KETNAP_{section}_{key}".upper())
            if override is not None:
                values[key] = _coerce(override, current)


def _coerce(text: str, like: Any) -> Any:
    if isinstance(like, bool):
        return text.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int):
        return int(text)
    if isinstance(like, list):
        return [int(part) for part in text.split(",") if part.strip()]
    return text
