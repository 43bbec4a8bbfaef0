"""`ketnap import`, `ketnap import-layout` and `ketnap export`: data in and out as CSV or
XLSX."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import LazyChoice, active_actor, actor_option, engine_options

if TYPE_CHECKING:
    from workflow.engine import Engine
    from workflow.exchange.report import ImportReport


def _import_kinds() -> Sequence[str]:
    from workflow.exchange import layouts

    return layouts.KINDS


def _export_what() -> Sequence[str]:
    from workflow.exchange import export

    return export.WHAT


def _export_formats() -> Sequence[str]:
    from workflow.exchange import export

    return export.FORMATS


@click.command(name="import")
@engine_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind", type=LazyChoice(_import_kinds), default=None, help="Default: from the columns."
)
@click.option("--dry-run", is_flag=True, help="Replay every row, then roll everything back.")
@click.option("--check", is_flag=True, help="Only validate the rows (fast); replay nothing.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the rejected rows to this CSV file.",
)
@actor_option
def import_command(
    engine: Engine,
    file: Path,
    kind: str | None,
    dry_run: bool,
    check: bool,
    report_path: Path | None,
    username: str,
) -> None:
    """Import historical cases, members or classes from a CSV (UTF-8) or XLSX FILE.

    Each accepted case row is replayed through the engine (history marked "imported");
    each rejected row is listed with its line and reason. Exit status 1 when any row
    was rejected. Column layouts: `ketnap import-layout`.
    """
    from workflow import config as config_module
    from workflow.access import Forbidden
    from workflow.exchange import run
    from workflow.exchange.limits import Limits
    from workflow.exchange.report import ImportFileError

    actor = active_actor(engine, username)
    limits = Limits.of(config_module.load().imports)  # the same caps as an upload
    started = time.monotonic()
    with click.progressbar(length=1, label="Đang nhập / importing", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            if check:
                report = run.check_file(engine, file, actor, progress, kind=kind, limits=limits)
            else:
                report = run.import_file(
                    engine, file, actor, progress, kind=kind, dry_run=dry_run, limits=limits
                )
        except ImportFileError as error:
            raise click.ClickException(f"{error.message_vi}\n{error.message_en}") from error
        except Forbidden as error:
            raise click.ClickException(
                f"người dùng '{username}' không được nhập dữ liệu (role may not import)"
            ) from error
    seconds = max(time.monotonic() - started, 1e-6)
    for problem in sorted(report.errors, key=lambda e: e.line):
        where = f"dòng {problem.line}" + (f", cột {problem.column}" if problem.column else "")
        click.echo(f"  ✗ {where}: {problem.text.vi}", err=True)
    if report_path is not None:
        _write_rejections(report, report_path)
    mode = "kiểm tra" if check else ("chạy thử (không ghi)" if dry_run else "đã ghi")
    click.echo(
        f"{report.kind}: {report.rows} dòng, {report.accepted} hợp lệ, {report.rejected} bị từ"
        f" chối, {report.written} {mode} — {report.rows / seconds:.0f} dòng/giây"
    )
    if report.rejected:
        raise SystemExit(1)


def _write_rejections(report: ImportReport, path: Path) -> None:
    from workflow.hygiene import formula_safe

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "column", "rule", "message_vi", "message_en"])
        for error in sorted(report.errors, key=lambda e: e.line):
            writer.writerow(
                formula_safe(value)  # a message may quote a cell: never a formula
                for value in (
                    error.line,
                    error.column or "",
                    error.rule or "",
                    error.text.vi,
                    error.text.en,
                )
            )


@click.group(name="imports")
def imports_group() -> None:
    """The queue of uploaded imports (the scheduler runs it every few seconds)."""


@imports_group.command(name="run")
@engine_options
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Run at most N jobs.")
def imports_run(engine: Engine, limit: int | None) -> None:
    """Remove week-old job files, then run the queued imports now, one after another.
    Safe beside a running scheduler: each job is claimed by one runner only."""
    from workflow import config as config_module
    from workflow.exchange import jobs

    settings = jobs.Settings.of(config_module.load().imports)
    cleaned = jobs.clean(engine, settings)
    count = jobs.run_pending(engine, settings, limit=limit)
    click.echo(f"{count} lần nhập đã chạy (imports run), {cleaned} đã dọn tệp (cleaned)")


@click.command(name="import-layout")
@click.argument("kind", type=LazyChoice(_import_kinds), default="cases")
@click.option("--template", is_flag=True, help="Print only a CSV header to start from.")
def import_layout(kind: str, template: bool) -> None:
    """The columns an import file of KIND has (* = the column must be present)."""
    from workflow.exchange import layouts

    if template:
        click.echo(layouts.template_csv(kind), nl=False)
        return
    for name, label, note in layouts.describe(kind):
        click.echo(f"{name:<40} {label}" + (f" — {note}" if note else ""))


@click.command(name="export")
@engine_options
@click.argument("what", type=LazyChoice(_export_what))
@click.option("--format", "fmt", type=LazyChoice(_export_formats), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--labels",
    type=click.Choice(["vi", "en"]),
    default=None,
    help="Column headers and values as labels in this language (default: codes).",
)
@actor_option
def export_command(
    engine: Engine, what: str, fmt: str, output: Path, labels: str | None, username: str
) -> None:
    """Export the cases or members the actor may read to CSV or XLSX."""
    from workflow.access import Forbidden
    from workflow.exchange import export as exporter

    actor = active_actor(engine, username)
    try:
        with output.open("wb") as out:
            count = exporter.export(engine, actor, what, fmt, out, labels)
    except Forbidden as error:
        output.unlink(missing_ok=True)
        raise click.ClickException(f"người dùng '{username}' không được xuất {what}") from error
    click.echo(f"{count} dòng → {output}")
