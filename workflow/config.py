"""Configuration: config.toml, overridden by environment variables KETNAP_<SECTION>_<KEY>.

`Settings` declares every key with its type and default, so an environment variable
works with or without a file (KETNAP_DATABASE_URL, KETNAP_WEB_TRUSTED_PROXIES …)
and a bad value is refused naming its key. `load()` returns `Config`, what the rest
of the code reads.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    TypeAdapter,
    ValidationError,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from workflow.rules import RuleBook, RuleParameters

__all__ = ["Config", "ConfigError", "RuleBook", "RuleParameters", "load"]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config.toml"


class ConfigError(ValueError):
    """A key or value in config.toml or the environment that Ketnap cannot use."""


@dataclass(frozen=True)
class RulesSection(RuleParameters):
    """[rules]: the first set of rule parameters (flat keys, as ever), and `later`: the
    sets that follow it ([[rules.later]]), each naming its `effective_from`, its text
    and only the parameters that changed (the others carry over from the set before)."""

    later: tuple[dict[str, Any], ...] = ()


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
    # FULL: every commit is on disk before it is answered; NORMAL: faster commits, the
    # last ones lost on a power cut (deploy/README.md, "Durability").
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"


class WebSettings(_Section):
    """[web]: the server, cookies, the proxies in front, sign-in limits ("N per M
    minutes"; counted in the database, see workflow/logins.py)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Empty: the key is read from secret_key_file, which `ketnap init` writes.
    secret_key: str = ""
    secret_key_file: str = "instance/secret_key"
    base_url: str = "http://127.0.0.1:8000"
    default_locale: Literal["vi", "en"] = "vi"
    secure_cookies: bool = False
    # How many reverse proxies (nginx …) stand in front and append X-Forwarded-For:
    # 0 trusts none (the header is ignored); 1 behind one nginx.
    trusted_proxies: int = Field(default=0, ge=0, le=10)
    login_limit: str = "10 per 5 minutes"  # failures per account from one address
    login_address_limit: str = "50 per 5 minutes"  # failures per address, any account
    login_account_limit: str = "10 per 5 minutes"  # beyond it each address gets 3 tries
    page_size: PositiveInt = 25
    # Unused since attempts are counted in the database; kept so that older
    # configuration files (and KETNAP_WEB_RATELIMIT_STORAGE) still load.
    ratelimit_storage: str = "memory://"


class SchedulerSettings(_Section):
    """[scheduler]: the reminder sweep, in the web process or as `ketnap scheduler`."""

    in_web_process: bool = True
    sweep_minutes: PositiveFloat = 15.0
    digest_hour: int = Field(default=7, ge=0, le=23)


class HistorySettings(_Section):
    """[history]: the Ed25519 key that signs the ledger's checkpoints, kept OUT of the
    database (`ketnap keygen` writes one). `public_key_file` alone lets a reader verify
    without being able to sign (an auditor's machine); with only the private key the
    public half is derived from it."""

    signing_key_file: str = ""
    public_key_file: str = ""
    # With a signing key, the scheduler signs the ledger's head this often (when it moved).
    checkpoint_minutes: PositiveFloat = 60.0


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
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    rules: RuleBook = field(default_factory=lambda: RuleBook((RuleParameters(),)))
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    web: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)
    history: HistorySettings = field(default_factory=HistorySettings)
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
    history: HistorySettings = Field(default_factory=HistorySettings)
    rules: RulesSection = Field(default_factory=RulesSection)


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
        sqlite_synchronous=settings.database.sqlite_synchronous,
        rules=rule_book(settings.rules, path),
        smtp=settings.smtp,
        web=settings.web.model_dump(),
        scheduler=settings.scheduler.model_dump(),
        history=settings.history,
        imports=settings.imports.model_dump(),
    )


UNKNOWN = {"extra_forbidden", "unexpected_keyword_argument"}
_ONE_SET = TypeAdapter(RuleParameters)


def rule_book(section: RulesSection, path: Path | str = "config.toml") -> RuleBook:
    """The sets of [rules], oldest first. A later set takes the set before it and changes
    what it names; a parameter it changes without naming its article gets the set's
    text as its source (the article of the older text no longer applies)."""
    first = RuleParameters(
        **{f.name: getattr(section, f.name) for f in dataclasses.fields(RuleParameters)}
    )
    sets = [first]
    for index, change in enumerate(section.later):
        where = f"[[rules.later]] {index + 1}"
        if "effective_from" not in change:
            raise ConfigError(f"{path}: {where}: effective_from is required")
        previous = sets[-1]
        unknown = sorted(set(change) - {f.name for f in dataclasses.fields(RuleParameters)})
        if unknown:
            raise ConfigError(
                f"{path}: {where}: " + ", ".join(f"{k}: unknown key" for k in unknown)
            )
        merged = dataclasses.asdict(previous) | change
        merged["sources"] = _later_sources(previous, change)
        if "text_vi" in change and "basis_vi" not in change:  # a new text: the old basis is not
            merged["basis_vi"] = change["text_vi"]
            merged["basis_en"] = change.get("text_en") or change["text_vi"]
        try:
            params = _ONE_SET.validate_python(merged)
        except ValidationError as error:
            raise ConfigError(
                _explain(error, Path(path), prefix=("rules", f"later[{index}]"))
            ) from error
        if params.effective_from <= previous.effective_from:
            raise ConfigError(
                f"{path}: {where}: effective_from {params.effective_from} must be after "
                f"{previous.effective_from}, the set before it"
            )
        sets.append(params)
    return RuleBook(tuple(sets))


def _later_sources(previous: RuleParameters, change: dict[str, Any]) -> dict[str, str]:
    named = dict(change.get("sources") or {})
    text = str(change.get("text_vi") or previous.text_vi)
    sources = {name: previous.source_of(name) for name in previous.values()}
    for name in previous.values():
        if name in change and change[name] != getattr(previous, name) and name not in named:
            sources[name] = text
    return sources | named


def _explain(error: ValidationError, path: Path, prefix: tuple[str, ...] = ()) -> str:
    """One line per bad key: where it is set, the value, what is wrong."""
    lines = [f"Cấu hình sai / bad configuration ({path} or the environment):"]
    for problem in error.errors():
        section, *rest = (*prefix, *map(str, problem["loc"]))
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


# ── the secret key that signs sessions and API tokens ────────────────────
# Keys that were ever shipped in this repository or its examples: anyone can read them.
SHIPPED_SECRET_KEYS = frozenset({"dev-only-change-me", "CHANGE-ME-64-random-characters"})
MIN_SECRET_KEY_LENGTH = 32
KEY_FILE_MODE = 0o600
KEY_FOLDER_MODE = 0o700


@dataclass(frozen=True)
class SecretKey:
    """The key and where it came from (named in messages, never the key itself)."""

    value: str
    source: str
    from_file: bool = False
    missing: bool = False  # the key file does not exist


def secret_key(config: Config) -> SecretKey:
    """[web] secret_key (KETNAP_WEB_SECRET_KEY) when set, else the contents of [web]
    secret_key_file (KETNAP_WEB_SECRET_KEY_FILE; relative to the working folder, like
    the SQLite path). A missing file is an empty key."""
    setting = f"[web] secret_key ({variable('web', 'secret_key')})"
    value = str(config.web.get("secret_key") or "")
    name = str(config.web.get("secret_key_file") or "")
    if value or not name:
        return SecretKey(value, setting)
    path = Path(name)
    source = f"{path}, [web] secret_key_file"
    try:
        return SecretKey(path.read_text(encoding="utf-8").strip(), source, from_file=True)
    except FileNotFoundError:
        return SecretKey("", source, from_file=True, missing=True)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"Không đọc được tệp khoá bí mật {path} / cannot read the secret key file "
            f"{path} ([web] secret_key_file, {variable('web', 'secret_key_file')}): {error}"
        ) from error


def secret_key_problem(value: str) -> tuple[str, str] | None:
    """Why `value` must not sign a production server's sessions (vi, en), or None."""
    if not value:
        return "đang trống", "is empty"
    if value in SHIPPED_SECRET_KEYS:
        return (
            "là khoá mẫu có sẵn trong mã nguồn, ai cũng đọc được",
            "is the example key shipped with Ketnap, which anyone can read",
        )
    if len(value) < MIN_SECRET_KEY_LENGTH:
        return (
            f"chỉ có {len(value)} ký tự (cần ít nhất {MIN_SECRET_KEY_LENGTH})",
            f"has only {len(value)} characters (at least {MIN_SECRET_KEY_LENGTH} are needed)",
        )
    return None


class InsecureSecretKey(ConfigError):
    """A production server asked to start with a key anyone could guess or read."""

    def __init__(self, key: SecretKey, problem: tuple[str, str], key_file: str) -> None:
        vi, en = problem
        env = variable("web", "secret_key")
        fix_vi, fix_en = _key_fix(key, key_file, env)
        make = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        super().__init__(
            f"Ketnap không khởi động: khoá bí mật ({key.source}) {vi}. Ai biết khoá "
            "này có thể giả phiên đăng nhập và mã API của bất kỳ ai, kể cả quản trị viên.\n"
            f"  Cách sửa: {fix_vi}, hoặc đặt {env} là một chuỗi ngẫu nhiên từ "
            f"{MIN_SECRET_KEY_LENGTH} ký tự trở lên, ví dụ: {make}\n"
            f"Ketnap will not start: the secret key ({key.source}) {en}. Whoever knows it "
            "can forge anyone's session cookie or API token, an administrator's included.\n"
            f"  To fix: {fix_en}, or set {env} to a random string of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, e.g. {make}"
        )


def _key_fix(key: SecretKey, key_file: str, env: str) -> tuple[str, str]:
    """What to do about the key, in Vietnamese and English, by where it came from."""
    if not key.from_file:  # the setting or the environment variable
        return (
            f"xoá {env} (và secret_key trong config.toml) rồi chạy `ketnap init`, nó ghi "
            f"một khoá ngẫu nhiên vào {key_file} (quyền 0600)",
            f"remove {env} (and secret_key from config.toml), then run `ketnap init`: it "
            f"writes a random key to {key_file} (mode 0600)",
        )
    if key.value:
        return (
            f"xoá tệp {key_file} rồi chạy `ketnap init` để ghi một khoá ngẫu nhiên mới",
            f"delete {key_file} and run `ketnap init` to write a new random key",
        )
    return (
        f"chạy `ketnap init`, nó ghi một khoá ngẫu nhiên vào {key_file} (quyền 0600)",
        f"run `ketnap init`: it writes a random key to {key_file} (mode 0600)",
    )


def require_strong_secret_key(config: Config, value: str | None = None) -> None:
    """Raise InsecureSecretKey unless the key (`value`, or the configured one) is fit
    for a production server."""
    key = secret_key(config)
    if value is not None and value != key.value:
        key = SecretKey(value, "the application's SECRET_KEY")
    problem = secret_key_problem(key.value)
    if key.missing:
        problem = ("không tồn tại", "does not exist")
    if problem is not None:
        raise InsecureSecretKey(key, problem, str(config.web.get("secret_key_file") or ""))


def write_secret_key(path: Path) -> bool:
    """Write a new random key to `path` (mode 0600; its folder, when created here,
    0700) unless the file exists: replacing a key would sign everyone out and void
    every API token. True when a key was written."""
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(mode=KEY_FOLDER_MODE, parents=True)
        folder.chmod(KEY_FOLDER_MODE)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
        file.flush()
        os.fsync(file.fileno())
    return True
