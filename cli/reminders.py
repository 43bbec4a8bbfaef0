"""`ketnap remind`, `ketnap deadlines` and `ketnap scheduler`: the reminder sweep from a
terminal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from cli.options import engine_options

if TYPE_CHECKING:
    from workflow.engine import Engine


def _ready(engine: Engine) -> None:
    """A clear error, not a traceback, when the database is missing or empty."""
    from sqlalchemy.exc import SQLAlchemyError

    from workflow import db

    where = engine.database.url.render_as_string(hide_password=True)
    try:
        initialised = db.is_initialised(engine.database)
    except SQLAlchemyError as error:
        raise click.ClickException(
            f"Không mở được cơ sở dữ liệu {where} / cannot open the database: "
            f"{type(getattr(error, 'orig', None) or error).__name__}"
        ) from error
    if not initialised:
        raise click.ClickException(
            f"Cơ sở dữ liệu {where} chưa được khởi tạo: chạy `ketnap init` hoặc `ketnap demo`"
            " / the database is not initialised: run `ketnap init` or `ketnap demo`"
        )


@click.command()
@engine_options
@click.option("--dry-run", is_flag=True, help="Show what would be sent; write and send nothing.")
def remind(engine: Engine, dry_run: bool) -> None:
    """Run one reminder sweep now (or on --now) and say what it sent.

    The last line is `N reminders sent` (or `N reminders would be sent`), for scripts.
    """
    from workflow import config as config_module
    from workflow.reminders.sweep import describe, sweep

    _ready(engine)
    result = sweep(engine, config_module.load(), dry_run=dry_run)
    for line in describe(result.reminders):
        click.echo(line)
    if not dry_run:
        if result.closed:
            click.echo(f"{result.closed} inbox item(s) closed: deadline met or moved")
        click.echo(result.delivery.summary())
        for error in result.delivery.errors[:3]:
            click.echo(f"  {error}", err=True)
    click.echo(result.summary())


@click.command()
@engine_options
@click.option("--overdue", is_flag=True, help="Only deadlines already past.")
@click.option("--limit", default=500, show_default=True)
def deadlines(engine: Engine, overdue: bool, limit: int) -> None:
    """List the live deadlines of open cases, soonest first."""
    from workflow import process
    from workflow.reminders.live_deadlines import stored_deadlines
    from workflow.rules import in_force

    _ready(engine)
    today = engine.clock.today()
    with engine.session() as session:
        params = in_force(engine.params, today)
        rows = stored_deadlines(session, today, params, overdue_only=overdue, limit=limit)
    ids = {spec.id for spec in process.DEADLINES}
    click.echo(f"{'#':>6}  {'họ và tên':<26} {'thời hạn':<40} {'hạn':<10}  tình trạng")
    for row in rows:
        label = process.deadline(row.deadline).label_vi if row.deadline in ids else row.deadline
        days = (row.due - today).days
        where = f"{row.stage} ({days:+d} ngày)" + (" ⚑ báo cáo cấp trên" if row.escalated else "")
        click.echo(
            f"{row.case_id:>6}  {row.person[:26]:<26} {label[:40]:<40} {row.due:%d/%m/%Y}  {where}"
        )
    click.echo(f"{len(rows)} deadline{'s' if len(rows) != 1 else ''}")


@click.command(name="scheduler")
@engine_options
def scheduler_command(engine: Engine) -> None:
    """Run the reminder sweep on its schedule, standalone, until stopped (Ctrl-C, SIGTERM).

    For deployments with several web workers: set `[scheduler] in_web_process = false`
    so the web processes do not schedule, and run this once.
    """
    from workflow import config as config_module
    from workflow.reminders import scheduler

    _ready(engine)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = config_module.load()
    click.echo(
        f"Ketnap scheduler: a sweep now, then every {scheduler.sweep_minutes(config):g} minutes"
    )
    scheduler.run_blocking(engine, config)
    click.echo("Ketnap scheduler stopped")
