"""The `ketnap` command. Every subcommand takes --database URL and --now YYYY-MM-DD."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

import click
from sqlmodel import Session, col, select

from workflow import db, history, process, runtime
from workflow.access import Actor
from workflow.engine import Conflict, Engine, NotFound
from workflow.guards import Refusal
from workflow.models import Case, CaseDeadline, Person, User
from workflow.schema import InvalidData


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
        if now is not None:
            try:
                date.fromisoformat(now)
            except ValueError as error:
                raise click.BadParameter(
                    f"'{now}' không phải ngày YYYY-MM-DD (is not a YYYY-MM-DD date)",
                    param_hint="--now",
                ) from error
        return command(engine=runtime.build(database_url, now), **kwargs)

    return wrapper


@click.group()
def main() -> None:
    """Ketnap — quy trình kết nạp đảng viên (the admission of new party members)."""


@main.command()
@engine_options
@click.option("--admin-password", default=None, help="Password of the first admin user.")
def init(engine: Engine, admin_password: str | None) -> None:
    """Create (or migrate) the database; a new one gets an `admin` user."""
    db.migrate(engine.database)
    with engine.session() as session:
        if session.exec(select(User.id).limit(1)).first() is None:
            from workflow.ops.demo import add_user

            password = admin_password or _ask_password()
            add_user(session, "admin", "admin", None, "Quản trị", password=password)
            session.commit()
            click.echo("Created user 'admin'.")
    click.echo(f"Database ready: {engine.database.url.render_as_string(hide_password=True)}")


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise click.UsageError("give --admin-password (no terminal to ask on)")
    return getpass.getpass("Mật khẩu cho admin / admin password: ")


@main.command()
@engine_options
@click.option("--if-missing", is_flag=True, help="Do nothing when the database has data.")
def demo(engine: Engine, if_missing: bool) -> None:
    """Create the database with a realistic demo (users' password: ketnap-demo)."""
    from workflow.ops import demo as demo_data

    db.migrate(engine.database)
    if demo_data.has_data(engine):
        if if_missing:
            click.echo("Demo data already present.")
            return
        raise click.ClickException("the database already has data; use a new database")
    demo_data.populate(engine)
    click.echo(
        f"Demo ready: {engine.count_cases(engine.session())} cases. Users: secretary, "
        f"sponsor, officer, auditor, admin — password '{demo_data.DEMO_PASSWORD}'."
    )


@main.command()
@engine_options
@click.option("--state", default=None, type=click.Choice(process.STATE_NAMES))
@click.option("--limit", default=200, show_default=True)
def cases(engine: Engine, state: str | None, limit: int) -> None:
    """List cases with their state and next deadline."""
    with engine.session() as session:
        query = select(Case, Person).join(Person, col(Person.id) == Case.person_id)
        if state:
            query = query.where(Case.state == state)
        rows = session.exec(query.order_by(col(Case.id)).limit(limit)).all()
        deadlines = _next_deadlines(session, [c.id for c, _ in rows if c.id is not None])
        click.echo(f"{'#':>5}  {'họ và tên':<26} {'bước':<32} hạn tiếp theo")
        for case, person in rows:
            due = deadlines.get(case.id or 0)
            nxt = f"{due[0]} {due[1]:%d/%m/%Y}" if due else "—"
            click.echo(f"{case.id:>5}  {person.full_name:<26} {case.state:<32} {nxt}")


def _next_deadlines(session: Session, case_ids: list[int]) -> dict[int, tuple[str, Any]]:
    rows = session.exec(
        select(CaseDeadline)
        .where(col(CaseDeadline.case_id).in_(case_ids))
        .order_by(col(CaseDeadline.due))
    )
    result: dict[int, tuple[str, Any]] = {}
    for row in rows:
        result.setdefault(row.case_id, (row.deadline, row.due))
    return result


@main.command()
@engine_options
@click.argument("case_id", type=int)
@click.argument("event")
@click.option("--on", "on", required=True, help="Date of the act, YYYY-MM-DD.")
@click.option("--data", "data_json", default="{}", help="The event's data as JSON.")
@click.option("--note", default=None)
@click.option("--actor", "username", required=True, help="The user recording the step.")
@click.option("--version", type=int, default=None, help="Expected version (default: current).")
def advance(
    engine: Engine,
    case_id: int,
    event: str,
    on: str,
    data_json: str,
    note: str | None,
    username: str,
    version: int | None,
) -> None:
    """Record EVENT on CASE_ID through the engine (the one way in)."""
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"--data is not valid JSON: {error}") from error
    with engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise click.ClickException(f"no user '{username}'")
        actor = Actor.of(session, user)
        case = session.get(Case, case_id)
        expected = version if version is not None else (case.version if case else 0)
    try:
        outcome = engine.advance(case_id, event, data, actor, expected, on=on, note=note)
    except Refusal as refusal:
        raise click.ClickException(f"[{refusal.rule}] {refusal.message_vi}") from refusal
    except InvalidData as error:
        raise click.ClickException(f"[{error.field}] {error.message_vi}") from error
    except Conflict as error:
        raise click.ClickException(error.message_vi) from error
    except NotFound as error:
        raise click.ClickException(f"không có hồ sơ {case_id}") from error
    if outcome.failed_vote:
        click.echo(f"Đã ghi nhận biểu quyết không đạt: {outcome.failed_vote.message_vi}")
    click.echo(
        f"Hồ sơ {case_id}: {outcome.event.from_state} → {outcome.case.state} "
        f"(phiên bản {outcome.case.version})"
    )


@main.command(name="history")
@engine_options
@click.argument("case_id", type=int)
def history_command(engine: Engine, case_id: int) -> None:
    """Print a case's history, oldest first, with the chain check."""
    with engine.session() as session:
        rows = history.rows_of(session, case_id)
        if not rows:
            raise click.ClickException(f"không có hồ sơ {case_id}")
        for row in rows:
            click.echo(
                f"{row.seq:>3} {row.on:%d/%m/%Y} {row.event:<24} {row.from_state or '—'}"
                f" → {row.to_state} [{row.outcome}] {row.actor} {row.hash[:12]}"
            )
        check = history.verify_case(session, case_id)
        click.echo("history intact" if check.intact else f"row {check.broken_at} {check.reason}")


@main.command()
@engine_options
def verify(engine: Engine) -> None:
    """Recompute every case's hash chain; name the first broken row of each."""
    with engine.session() as session:
        broken = history.verify_all(session)
    for check in broken:
        click.echo(f"case {check.case_id}: row {check.broken_at} {check.reason}")
    if broken:
        raise SystemExit(1)
    click.echo("all history chains intact")


@main.command(name="process")
@click.option("--mermaid", is_flag=True, help="Print a Mermaid state diagram.")
def process_command(mermaid: bool) -> None:
    """Print the process table (states, events, guards, deadlines)."""
    if mermaid:
        click.echo(process.mermaid())
        return
    for event in process.events():
        sources = ", ".join(event.sources) or "(new)"
        guards = ", ".join(g.id for g in event.guards) or "—"
        fields = ", ".join(f.name for f in event.fields) or "—"
        click.echo(
            f"{event.name}: {sources} → {event.target or '(same)'}\n"
            f"    fields: {fields}\n    guards: {guards}"
        )
    for deadline in process.DEADLINES:
        click.echo(
            f"deadline {deadline.id}: {deadline.anchor} + {deadline.unit} ({deadline.source})"
        )


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--database", "database_url", default=None, help="SQLAlchemy URL.")
@click.option("--now", default=None, help="Pretend today is YYYY-MM-DD (time travel).")
def serve(host: str | None, port: int | None, database_url: str | None, now: str | None) -> None:
    """Serve the web UI and the JSON API (http://127.0.0.1:8000 by default)."""
    from web.server import serve as run  # lazy: workflow/ never imports Flask at import time

    run(host, port, database_url, now)


# Other modules' commands register themselves on `main` when imported here.
# (one import per line, kept sorted)
import cli.documents  # noqa: E402, F401
import cli.ops  # noqa: E402, F401
import cli.reminders  # noqa: E402, F401
import cli.reports  # noqa: E402, F401

if __name__ == "__main__":
    main()
