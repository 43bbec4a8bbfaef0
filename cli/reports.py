"""`ketnap report`, `ketnap narrative` and `ketnap target …`: the district reports from a
terminal. The terminal is the operator's, so reports are not scoped to a user; setting a
target names the user who sets it (--actor), whose role and scope are checked."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from cli.options import WHOLE, LazyChoice, engine_options

if TYPE_CHECKING:
    from sqlmodel import Session

    from workflow.access import Actor
    from workflow.engine import Engine


def _report_names() -> Sequence[str]:
    from workflow.reports.catalogue import NAMES

    return NAMES


def _target_kinds() -> Sequence[str]:
    from workflow.directory import targets

    return targets.KIND_NAMES


def _period(engine: Engine, date_from: str | None, date_to: str | None) -> tuple[date, date]:
    from workflow.reports.scope import parse_query
    from workflow.schema import InvalidData

    try:
        _, start, end = parse_query({"from": date_from, "to": date_to}, engine.clock.today())
    except InvalidData as error:
        raise click.UsageError(f"[{error.field}] {error.message_vi}") from error
    return start, end


def _as_of(engine: Engine, text: str | None) -> date:
    from workflow.schema import InvalidData, parse_date

    if text is None:
        return engine.clock.today()
    try:
        return parse_date(text, "as_of")
    except InvalidData as error:
        raise click.UsageError(f"[as-of] {error.message_vi}") from error


def _organisation(session: Session, org_id: int | None) -> int:
    from workflow.access import Actor
    from workflow.reports.scope import organisation_for

    if org_id is not None:
        return org_id
    root = organisation_for(session, Actor("cli", "admin", None, ""), None).id
    assert root is not None
    return root


def scope_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--org, --from and --to: whose figures, over which days."""
    command = click.option(
        "--to", "date_to", default=None, help="Last day, YYYY-MM-DD (default: today)."
    )(command)
    command = click.option(
        "--from", "date_from", default=None, help="First day, YYYY-MM-DD (default: 1 January)."
    )(command)
    return click.option(
        "--org", "org_id", type=WHOLE, default=None, help="Organisation id (default: the root)."
    )(command)


def precision_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--precision 1|2: the decimals of the printed shares, as the API's `precision`."""
    return click.option(
        "--precision",
        type=click.Choice(["1", "2"]),
        default="1",
        show_default=True,
        callback=lambda _context, _parameter, value: int(value),
        help="Decimals of the printed shares: 1 (a share under 1 %% gets 2) or 2. "
        "Numbers in JSON stay exact to two decimals.",
    )(command)


@click.command(name="report")
@engine_options
@click.argument("name", type=LazyChoice(_report_names))
@scope_options
@precision_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="The day the figures are judged on, YYYY-MM-DD (default: today; the period's "
    "last day if sooner): overdue deadlines, and the forecast made as of that day.",
)
def report_command(
    engine: Engine,
    name: str,
    org_id: int | None,
    date_from: str | None,
    date_to: str | None,
    precision: int,
    output: str,
    as_of: str | None,
) -> None:
    """Print report NAME for an organisation's subtree over a period."""
    from workflow.engine import NotFound
    from workflow.reports.catalogue import compute
    from workflow.reports.files import to_csv, to_text

    start, end = _period(engine, date_from, date_to)
    day = _as_of(engine, as_of)
    with engine.session() as session:
        try:
            result = compute(
                session,
                name,
                _organisation(session, org_id),
                start,
                end,
                as_of=day,
                precision=precision,
            )
        except NotFound as error:
            raise click.ClickException(f"không có tổ chức {org_id}") from error
    if output == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif output == "csv":
        click.echo(to_csv(result).lstrip("\ufeff"), nl=False)
    else:
        click.echo(to_text(result), nl=False)


@click.command(name="narrative")
@engine_options
@scope_options
@precision_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "docx"]),
    default="text",
    show_default=True,
    help="The sentences as text, as JSON (with the figures behind them), or as Word.",
)
@click.option(
    "-o",
    "--output-file",
    "output_file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Where to write the .docx (required with --format docx).",
)
def narrative_command(
    engine: Engine,
    org_id: int | None,
    date_from: str | None,
    date_to: str | None,
    precision: int,
    output: str,
    output_file: str | None,
) -> None:
    """Print the period's figures as the sentences of a district report."""
    from workflow.engine import NotFound
    from workflow.reports import narrative
    from workflow.reports.files import narrative_docx

    if output == "docx" and output_file is None:
        raise click.UsageError("--format docx cần -o FILE.docx (needs -o FILE.docx)")
    start, end = _period(engine, date_from, date_to)
    with engine.session() as session:
        try:
            told = narrative.narrative(
                session,
                _organisation(session, org_id),
                start,
                end,
                today=engine.clock.today(),
                precision=precision,
            )
        except NotFound as error:
            raise click.ClickException(f"không có tổ chức {org_id}") from error
    if output == "json":
        click.echo(
            json.dumps(told | {"text": narrative.as_text(told)}, ensure_ascii=False, indent=2)
        )
    elif output == "docx":
        assert output_file is not None
        with open(output_file, "wb") as handle:
            handle.write(narrative_docx(told))
        click.echo(f"→ {output_file}")
    else:
        click.echo(narrative.as_text(told))


@click.group(name="target")
def target_group() -> None:
    """Admission targets (chỉ tiêu kết nạp) of an organisation."""


def _actor(session: Session, username: str) -> Actor:
    from sqlmodel import select

    from workflow.access import Actor
    from workflow.models import User

    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"không có người dùng '{username}'")
    return Actor.of(session, user)


def _fail(error: Exception) -> click.ClickException:
    from workflow.access import Forbidden
    from workflow.schema import InvalidData

    if isinstance(error, InvalidData):
        return click.ClickException(f"[{error.field}] {error.message_vi}")
    if isinstance(error, Forbidden):
        return click.ClickException("vai trò của người dùng không được đặt chỉ tiêu")
    return click.ClickException("không có tổ chức này trong phạm vi của người dùng")


@target_group.command(name="set")
@engine_options
@click.option("--org", "org_id", type=WHOLE, required=True, help="Organisation id.")
@click.option("--kind", type=LazyChoice(_target_kinds), required=True)
@click.option("--year", type=WHOLE, default=None, help="For --kind year.")
@click.option("--start", "period_start", default=None, help="First day of the period (YYYY-MM-DD).")
@click.option("--end", "period_end", default=None, help="Last day of the period (YYYY-MM-DD).")
@click.option("--number", type=WHOLE, required=True, help="How many admissions.")
@click.option("--ref", default="", help='Reference, e.g. "Nghị quyết số 130-NQ/HU".')
@click.option("--actor", "username", required=True, help="The officer or admin setting it.")
def target_set(engine: Engine, username: str, **values: Any) -> None:
    """Set (or change) a target for a year, a resolution's period or a congress term."""
    from workflow.access import Forbidden
    from workflow.directory import targets
    from workflow.engine import NotFound
    from workflow.schema import InvalidData

    data = {
        "organisation_id": values["org_id"],
        "kind": values["kind"],
        "year": values["year"],
        "period_start": values["period_start"],
        "period_end": values["period_end"],
        "number": values["number"],
        "ref": values["ref"],
    }
    with engine.session() as session:
        try:
            target = targets.set_target(
                session, _actor(session, username), targets.parse(data), engine.clock.now()
            )
        except (InvalidData, Forbidden, NotFound) as error:
            raise _fail(error) from error
    click.echo(f"Chỉ tiêu #{target.id}: {_describe(targets.as_dict(target))}")


@target_group.command(name="list")
@engine_options
@click.option("--org", "org_id", type=WHOLE, default=None, help="Only this organisation's.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
def target_list(engine: Engine, org_id: int | None, output: str) -> None:
    """List the targets (all organisations, or one)."""
    from workflow.access import Actor
    from workflow.directory import targets

    with engine.session() as session:
        rows = targets.visible(session, Actor("cli", "admin", None, ""), org_id)
    listed = [targets.as_dict(target, org) for target, org in rows]
    if output == "json":
        click.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    for row in listed:
        click.echo(f"#{row['id']:<4} {row['organisation_name']}: {_describe(row)}")
    if not listed:
        click.echo("Chưa có chỉ tiêu nào.")


@target_group.command(name="delete")
@engine_options
@click.argument("target_id", type=WHOLE)
@click.option("--actor", "username", required=True, help="The officer or admin deleting it.")
def target_delete(engine: Engine, target_id: int, username: str) -> None:
    """Delete a target set by mistake."""
    from workflow.access import Forbidden
    from workflow.directory import targets
    from workflow.engine import NotFound

    with engine.session() as session:
        try:
            targets.delete_target(
                session, _actor(session, username), target_id, now=engine.clock.now()
            )
        except (Forbidden, NotFound) as error:
            raise _fail(error) from error
    click.echo(f"Đã xóa chỉ tiêu #{target_id}.")


def _describe(row: dict[str, Any]) -> str:
    if row["kind"] == "year":
        return f"Chỉ tiêu năm {row['year']}: {row['number']} đảng viên"
    ref = f" ({row['ref']})" if row["ref"] else ""
    period = f"{row['period_start']} → {row['period_end']}"
    return f"{row['kind_label']} {period}: {row['number']} đảng viên{ref}"
