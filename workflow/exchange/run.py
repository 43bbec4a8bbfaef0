"""Running an import: `import_file` (or `check_file`, which only validates) takes a
CSV/XLSX file, tells its kind from the columns unless given, and runs the kind's job
over every row. Every rejected row is in the returned `ImportReport` with its line and
reason while the good rows go on; a file refused as a whole raises `ImportFileError`.
A dry run replays every row the same way and rolls every batch back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workflow.access import Actor, Forbidden
from workflow.engine import Engine
from workflow.exchange.import_cases import CaseImport
from workflow.exchange.import_classes import ClassImport
from workflow.exchange.import_members import MemberImport
from workflow.exchange.import_villages import VillageImport
from workflow.exchange.job import ImportJob, Progress
from workflow.exchange.limits import Limits
from workflow.exchange.readers import match_header, open_table
from workflow.exchange.report import ImportFileError, ImportReport

IMPORTERS = ("admin", "officer")  # the roles that may import
JOBS: dict[str, type[ImportJob]] = {
    "cases": CaseImport,
    "members": MemberImport,
    "classes": ClassImport,
    "villages": VillageImport,
}


def import_file(
    engine: Engine,
    path: Path | str,
    actor: Actor,
    progress: Progress | None = None,
    *,
    kind: str | None = None,
    dry_run: bool = False,
    file_name: str | None = None,
    limits: Limits | None = None,
) -> ImportReport:
    """Import a CSV/XLSX file; every rejected row is in the report with its reason."""
    how = _How(kind, dry_run, False, file_name, limits or Limits())
    return _run(engine, Path(path), actor, progress, how)


def check_file(
    engine: Engine,
    path: Path | str,
    actor: Actor,
    progress: Progress | None = None,
    *,
    kind: str | None = None,
    file_name: str | None = None,
    limits: Limits | None = None,
) -> ImportReport:
    """Validate every row (columns, values, dates, cells, duplicates) without replaying
    anything: fast, writes nothing. Rules the engine applies at replay are not checked."""
    how = _How(kind, True, True, file_name, limits or Limits())
    return _run(engine, Path(path), actor, progress, how)


@dataclass(frozen=True)
class _How:
    kind: str | None
    dry_run: bool
    check_only: bool
    file_name: str | None
    limits: Limits


def _run(
    engine: Engine, path: Path, actor: Actor, progress: Progress | None, how: _How
) -> ImportReport:
    if actor.role not in IMPORTERS:
        raise Forbidden(f"role {actor.role} may not import")
    with open_table(path, how.file_name, how.limits) as table:
        kind, names = match_header(table, how.kind)
        report = ImportReport(
            kind,
            how.file_name or path.name,
            how.dry_run,
            how.check_only,
            max_errors=how.limits.max_errors,
        )
        with engine.session() as session:
            job = JOBS[kind](engine, session, actor, report, names)
            job.run(table, progress)
        if report.rows == 0:
            raise ImportFileError(
                "Tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào",
                "The file has a header but no data rows",
            )
        return report
