"""`ketnap backup`, `ketnap restore`, `ketnap copy`: whole-database operations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import engine_options

if TYPE_CHECKING:
    from workflow.engine import Engine


def _url(engine: Engine) -> str:
    return engine.database.url.render_as_string(hide_password=False)


@click.command()
@engine_options
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Backup file (default: ketnap-backup-<date>-<time>.db, or .dump for PostgreSQL).",
)
def backup(engine: Engine, target: Path | None) -> None:
    """Back up the database: SQLite's online backup, or pg_dump for PostgreSQL."""
    from workflow.ops import database as ops

    url = _url(engine)
    engine.database.dispose()
    if target is None:
        suffix = ".db" if ops.is_sqlite(url) else ".dump"
        target = Path(f"ketnap-backup-{engine.clock.now():%Y%m%d-%H%M%S}{suffix}")
    try:
        made = ops.backup(url, target)
    except ops.OpsError as error:
        raise click.ClickException(str(error)) from error
    cases = f", {made.cases} cases" if made.cases is not None else ""
    click.echo(f"Backup written: {made.path} ({made.kind}{cases})")


@click.command()
@engine_options
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Overwrite a database that holds cases.")
def restore(engine: Engine, source: Path, force: bool) -> None:
    """Replace the database with the backup SOURCE (stop the web workers first)."""
    from workflow.ops import database as ops

    url = _url(engine)
    engine.database.dispose()
    try:
        made = ops.restore(url, source, force=force)
    except ops.OpsError as error:
        raise click.ClickException(str(error)) from error
    cases = f", {made.cases} cases" if made.cases is not None else ""
    click.echo(f"Restored {source} into {engine.database.url.database}{cases}")


@click.command(name="copy")
@click.option("--from", "source", required=True, help="SQLAlchemy URL to copy from.")
@click.option("--to", "target", required=True, help="URL of a new, empty database.")
def copy_command(source: str, target: str) -> None:
    """Copy every row between databases (SQLite ⇄ PostgreSQL), ids kept, chains checked."""
    from workflow.ops import database as ops

    last: dict[str, int] = {}

    def progress(table: str, rows: int) -> None:
        if rows - last.get(table, 0) >= 100_000:
            click.echo(f"  {table}: {rows:,} rows", err=True)
            last[table] = rows

    try:
        report = ops.copy(source, target, progress=progress)
    except ops.OpsError as error:
        raise click.ClickException(str(error)) from error
    for table, rows in report.rows.items():
        click.echo(f"{table:<24} {rows:>10,} rows")
    if report.missing:
        click.echo(f"Not in the source schema (left empty): {', '.join(report.missing)}", err=True)
    if not report.ok:
        for check in report.broken_chains[:20]:
            click.echo(f"case {check.case_id}: row {check.broken_at} {check.reason}")
        raise click.ClickException(f"{len(report.broken_chains)} history chains do not verify")
    click.echo(f"Copied {sum(report.rows.values()):,} rows; every history chain verifies.")
