"""`ketnap import`, `ketnap import-layout`, `ketnap export` and `ketnap form`
(registered on cli.main)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import click
from sqlmodel import select

from cli.main import engine_options, main
from workflow.access import Actor, Forbidden
from workflow.documents import forms
from workflow.engine import Engine, NotFound
from workflow.exchange import export as exporter
from workflow.exchange import layouts, run
from workflow.exchange.report import ImportFileError, ImportReport
from workflow.models import Person, User


def _actor(engine: Engine, username: str) -> Actor:
    with engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise click.ClickException(f"không có người dùng '{username}' (no such user)")
        return Actor.of(session, user)


ACTOR_OPTION = click.option(
    "--actor",
    "username",
    default="admin",
    show_default=True,
    help="The user on whose behalf (and within whose scope) to act.",
)


@main.command(name="import")
@engine_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind", type=click.Choice(layouts.KINDS), default=None, help="Default: from the columns."
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
@ACTOR_OPTION
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
    actor = _actor(engine, username)
    started = time.monotonic()
    with click.progressbar(length=1, label="Đang nhập / importing", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            if check:
                report = run.check_file(engine, file, actor, progress, kind=kind)
            else:
                report = run.import_file(engine, file, actor, progress, kind=kind, dry_run=dry_run)
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
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "column", "rule", "message_vi", "message_en"])
        for error in sorted(report.errors, key=lambda e: e.line):
            writer.writerow(
                [
                    error.line,
                    error.column or "",
                    error.rule or "",
                    error.text.vi,
                    error.text.en,
                ]
            )


@main.command(name="import-layout")
@click.argument("kind", type=click.Choice(layouts.KINDS), default="cases")
@click.option("--template", is_flag=True, help="Print only a CSV header to start from.")
def import_layout(kind: str, template: bool) -> None:
    """The columns an import file of KIND has (* = the column must be present)."""
    if template:
        click.echo(layouts.template_csv(kind), nl=False)
        return
    for name, label, note in layouts.describe(kind):
        click.echo(f"{name:<40} {label}" + (f" — {note}" if note else ""))


@main.command(name="export")
@engine_options
@click.argument("what", type=click.Choice(exporter.WHAT))
@click.option(
    "--format", "fmt", type=click.Choice(exporter.FORMATS), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@ACTOR_OPTION
def export_command(engine: Engine, what: str, fmt: str, output: Path, username: str) -> None:
    """Export the cases or members the actor may read to CSV or XLSX."""
    actor = _actor(engine, username)
    try:
        with output.open("wb") as out:
            count = exporter.export(engine, actor, what, fmt, out)
    except Forbidden as error:
        output.unlink(missing_ok=True)
        raise click.ClickException(f"người dùng '{username}' không được xuất {what}") from error
    click.echo(f"{count} dòng → {output}")


@main.command(name="form")
@engine_options
@click.argument("case_id", type=int)
@click.argument("form_name", metavar="FORM")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--sponsor", type=int, default=None, help="3-KNĐ: only this sponsor's page.")
@ACTOR_OPTION
def form_command(
    engine: Engine,
    case_id: int,
    form_name: str,
    output: Path | None,
    sponsor: int | None,
    username: str,
) -> None:
    """Write the official form FORM (3-KNĐ, 6-KNĐ, 13-KNĐ, 20-KNĐ) of CASE_ID as .docx."""
    actor = _actor(engine, username)
    with engine.session() as session:
        try:
            case = engine.case_for(session, case_id, actor)
        except NotFound as error:
            raise click.ClickException(f"không có hồ sơ {case_id} (no such case)") from error
        try:
            content = forms.render(session, case, form_name, engine.params, sponsor)
        except forms.FormNotApplicable as error:
            raise click.ClickException(f"{error.message_vi}\n{error.message_en}") from error
        person = session.get(Person, case.person_id)
        assert person is not None
        target = output or Path(forms.filename(case, person, form_name, sponsor))
    target.write_bytes(content)
    click.echo(f"{target}")
