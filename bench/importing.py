"""Import throughput: `workflow.importer.import_file` on SQLite (goal ≥ 5,000 cases/s)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bench.figures import Figure
from bench.queries import optional


def run(workdir: Path, today: date, rows: int, runs: int) -> list[Figure]:
    importer = optional("workflow.importer")
    if importer is None or not hasattr(importer, "import_file"):
        return [
            Figure(
                "import throughput",
                "sqlite",
                None,
                "cases/s",
                goal="≥ 5,000 cases/s",
                detail="workflow.importer.import_file not available yet",
            )
        ]
    raise NotImplementedError("import benchmark: pending the importer's file format")
