"""What several commands share: --database/--now, --actor, and choices read lazily.

Nothing here imports the engine at import time: `ketnap --help` loads only click and
these modules, and a command imports what it needs when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from workflow.access import Actor
    from workflow.engine import Engine


class WholeNumber(click.ParamType[int]):
    """An integer option or argument in ASCII digits: click's own INT would read "٣" as
    3 (int() does), and Ketnap's forms and API refuse it."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        from workflow.hygiene import whole_number

        number = whole_number(str(value), negative=True, digits=12)
        if number is None:
            self.fail(
                f"'{value}' không phải số nguyên (chỉ dùng chữ số 0–9) / "
                f"'{value}' is not a whole number (the digits 0–9 only)",
                param,
                ctx,
            )
        return number


WHOLE = WholeNumber()


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--database and --now on a subcommand; it receives a ready Engine as `engine`."""

    @click.option(
        "--database",
        "database_url",
        default=None,
        help="SQLAlchemy URL (default: config.toml's [database] url).",
    )
    @click.option("--now", default=None, help="Pretend today is YYYY-MM-DD (time travel).")
    @wraps(command)
    def wrapper(database_url: str | None, now: str | None, **kwargs: Any) -> Any:
        engine = build_engine(database_url, now)
        try:
            return command(engine=engine, **kwargs)
        finally:
            engine.database.dispose()  # close the pool's connections, not leave them to GC

    return wrapper


def build_engine(database_url: str | None, now: str | None) -> Engine:
    """The engine from config.toml, --database and --now; bad input is a usage error."""
    from workflow import runtime
    from workflow.config import ConfigError

    if now is not None:
        try:
            date.fromisoformat(now)
        except ValueError as error:
            raise click.BadParameter(
                f"'{now}' không phải ngày YYYY-MM-DD (is not a YYYY-MM-DD date)",
                param_hint="--now",
            ) from error
    try:
        engine = runtime.build(database_url, now)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    engine.via = command_line_origin()  # every act recorded from here says so
    return engine


def command_line_origin() -> str:
    """ "cli:<operating-system user>": who really typed a command, whatever --actor says."""
    import getpass
    import os

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


actor_option = click.option(
    "--actor",
    "username",
    default="admin",
    show_default=True,
    help="The user on whose behalf (and within whose scope) to act.",
)


def active_actor(engine: Engine, username: str) -> Actor:
    """The active user `username` as an Actor, or a clear error."""
    from sqlmodel import select

    from workflow.access import Actor
    from workflow.models import User

    with engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise click.ClickException(f"không có người dùng '{username}' (no such user)")
        return Actor.of(session, user)


class LazyChoice(click.Choice[str]):
    """A click.Choice whose values come from the workflow package when first needed.

    The values live in modules that import the database layer; reading them when a
    command's options are declared would make every `ketnap …` (even `--help`) pay for
    that. `values` is a function that imports its module and returns the names.
    """

    def __init__(self, values: Callable[[], Sequence[str]], case_sensitive: bool = True) -> None:
        self._values = values
        self.case_sensitive = case_sensitive

    @cached_property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self._values())
