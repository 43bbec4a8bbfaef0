"""The layer contracts in pyproject.toml ([tool.importlinter]) hold, and each one breaks
on the violation it is there to catch (checked on a copy of the source)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("workflow", "web", "cli")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(root)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("workflow/clock.py", "import flask", "never imports the web layer, the CLI or Flask"),
        ("workflow/reports/files.py", "import web.app", "never imports the web layer"),
        ("workflow/ops/demo.py", "import cli.options", "never imports the web layer"),
        ("web/errors.py", "import cli.options", "web never imports the CLI"),
        ("cli/ops.py", "import cli.main", "no module imports it"),
        ("workflow/engine.py", "import workflow.reports", "a core module never imports"),
        ("workflow/directory/villages.py", "import workflow.reports.files", "no cycle among"),
    ],
)
def test_each_contract_breaks_on_its_violation(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{line}  # the violation under test\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [row for row in result.stdout.splitlines() if "BROKEN" in row]
    assert broken, result.stdout
    assert contract in result.stdout.split("Broken contracts")[-1]
