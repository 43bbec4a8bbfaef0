"""`ketnap init`, `demo`, `cases`, `advance`, `history`, `verify` and `process`: a case's
life from a terminal."""

from __future__ import annotations

import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

import click

from cli.options import WHOLE, LazyChoice, engine_options

if TYPE_CHECKING:
    from sqlmodel import Session

    from workflow.access import Actor
    from workflow.engine import Engine


def _state_names() -> tuple[str, ...]:
    from workflow import process

    return process.STATE_NAMES


@click.command()
@engine_options
@click.option("--admin-password", default=None, help="Password of the first admin user.")
def init(engine: Engine, admin_password: str | None) -> None:
    """Create (or migrate) the database; a new one gets an `admin` user."""
    from sqlmodel import select

    from workflow import db
    from workflow.models import User
    from workflow.ops.demo import add_user

    db.migrate(engine.database)
    with engine.session() as session:
        if session.exec(select(User.id).limit(1)).first() is None:
            password = admin_password or _ask_password()
            add_user(session, "admin", "admin", None, "Quản trị", password=password)
            session.commit()
            click.echo("Created user 'admin'.")
    click.echo(f"Database ready: {engine.database.url.render_as_string(hide_password=True)}")
    _ensure_secret_key()


def _ensure_secret_key() -> None:
    """A random secret key in [web] secret_key_file unless one is configured or the file
    exists (a new key would sign everyone out): what `ketnap serve` then reads."""
    from pathlib import Path

    from workflow import config as config_module

    config = config_module.load()
    if config.web["secret_key"]:
        key = config_module.secret_key(config)
        problem = config_module.secret_key_problem(key.value)
        if problem:
            click.echo(f"Cảnh báo / warning: the secret key from {key.source} {problem[1]}.")
        return
    path = Path(config.web["secret_key_file"])
    if config_module.write_secret_key(path):
        click.echo(f"Wrote a new random secret key to {path} (mode 0600).")


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise click.UsageError("give --admin-password (no terminal to ask on)")
    return getpass.getpass("Mật khẩu cho admin / admin password: ")


@click.command()
@engine_options
@click.option("--if-missing", is_flag=True, help="Do nothing when the database has data.")
def demo(engine: Engine, if_missing: bool) -> None:
    """Create the database with a realistic demo (users' password: ketnap-demo)."""
    from workflow import db
    from workflow.ops import demo as demo_data

    db.migrate(engine.database)
    _ensure_secret_key()  # `make run` serves in production mode right after
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


@click.command()
@engine_options
@click.option("--state", default=None, type=LazyChoice(_state_names))
@click.option("--limit", default=200, show_default=True)
def cases(engine: Engine, state: str | None, limit: int) -> None:
    """List cases with their state and next deadline."""
    from sqlmodel import col, select

    from workflow.models import Case, Person

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
    from sqlmodel import col, select

    from workflow.models import CaseDeadline

    rows = session.exec(
        select(CaseDeadline)
        .where(col(CaseDeadline.case_id).in_(case_ids))
        .order_by(col(CaseDeadline.due))
    )
    result: dict[int, tuple[str, Any]] = {}
    for row in rows:
        result.setdefault(row.case_id, (row.deadline, row.due))
    return result


@click.command()
@engine_options
@click.argument("case_id", type=WHOLE)
@click.argument("event")
@click.option("--on", "on", required=True, help="Date of the act, YYYY-MM-DD.")
@click.option("--data", "data_json", default="{}", help="The event's data as JSON.")
@click.option("--note", default=None)
@click.option("--actor", "username", required=True, help="The user recording the step.")
@click.option("--version", type=WHOLE, default=None, help="Expected version (default: current).")
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
    from workflow.engine import Conflict, NotFound
    from workflow.refusal import Refusal
    from workflow.schema import InvalidData

    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"--data is not valid JSON: {error}") from error
    actor, expected = _actor_and_version(engine, username, case_id, version)
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


def _actor_and_version(
    engine: Engine, username: str, case_id: int, version: int | None
) -> tuple[Actor, int]:
    """The recording user, and the version the step expects (default: the current one)."""
    from sqlmodel import select

    from workflow.access import Actor
    from workflow.models import Case, User

    with engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise click.ClickException(f"no user '{username}'")
        actor = Actor.of(session, user)
        case = session.get(Case, case_id)
        return actor, version if version is not None else (case.version if case else 0)


@click.command(name="history")
@engine_options
@click.argument("case_id", type=WHOLE)
def history_command(engine: Engine, case_id: int) -> None:
    """Print a case's history, oldest first, with the chain check."""
    from workflow import history

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


@click.command()
@engine_options
@click.option(
    "--public-key",
    "public_key_file",
    default=None,
    help="Verify signed checkpoints with this public key (default: [history] config).",
)
@click.option(
    "--checkpoints",
    "exported",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Also check checkpoints exported earlier and kept elsewhere (JSON).",
)
def verify(engine: Engine, public_key_file: str | None, exported: str | None) -> None:
    """Check every case's chain against its case and person rows, the ledger over all
    cases, and the signed checkpoints; name every problem (exit 1 if any)."""
    from workflow import history
    from workflow.history import signing

    public = _public_key(public_key_file)
    with engine.session() as session:
        found = history.audit(session, public)
        problems = found.problems()
        if exported is not None:
            problems += _exported_problems(session, public, exported)
    for line in problems:
        click.echo(line)
    for note in found.notes:
        click.echo(f"note: {note.vi} / {note.en}")
    if problems:
        raise SystemExit(1)
    click.echo(
        f"all history chains intact; ledger intact ({found.ledger.entries} entries, "
        f"head {found.ledger.head_seq} {found.ledger.head_hash[:16]})"
    )
    if found.checkpoints is not None and found.checkpoints.checked:
        click.echo(f"{found.checkpoints.checked} signed checkpoints verify ({signing.DOMAIN})")


def _public_key(path: str | None) -> Any:
    from workflow import config
    from workflow.history import signing

    try:
        if path:
            return signing.load_public(path)
        return signing.configured_public(config.load().history)
    except (signing.SigningKeyError, config.ConfigError) as error:
        raise click.ClickException(str(error)) from error


def _exported_problems(session: Session, public: Any, path: str) -> list[str]:
    from pathlib import Path

    from workflow.history import signing

    if public is None:
        raise click.ClickException("--checkpoints needs a public key (--public-key)")
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))["checkpoints"]
        copies = [signing.from_json(item) for item in items]
    except (ValueError, KeyError, TypeError) as error:
        raise click.ClickException(f"{path}: not an exported checkpoint file ({error})") from error
    checked = signing.verify(session, public, copies)
    return [f"exported {line}" for line in checked.problems]


@click.command(name="process")
@click.option("--mermaid", is_flag=True, help="Print a Mermaid state diagram.")
def process_command(mermaid: bool) -> None:
    """Print the process table (states, events, guards, deadlines)."""
    from workflow import process

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
