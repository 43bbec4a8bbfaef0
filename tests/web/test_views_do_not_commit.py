"""No module under web/ commits: views parse, call the workflow action that owns the
transaction, and render (DESIGN.md: "web/ … no business rule, no commit()")."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
COMMIT = re.compile(r"\.commit\(")


def test_no_module_under_web_calls_commit() -> None:
    committing = sorted(
        path.relative_to(WEB).as_posix()
        for path in WEB.rglob("*.py")
        if COMMIT.search(path.read_text(encoding="utf-8"))
    )
    assert committing == [], f"these commit in web/: {committing}"


def test_the_admin_pages_and_the_organisation_api_do_not_commit() -> None:
    for module in ("admin.py", "audit.py", "api/organisations.py", "api/admin_log.py"):
        assert not COMMIT.search((WEB / module).read_text(encoding="utf-8")), module
