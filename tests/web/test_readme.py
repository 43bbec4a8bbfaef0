"""The README's map stays true: every file it names exists, and the phone screenshots it
shows (the task list and the case page) are small PNGs at phone size under docs/."""

from __future__ import annotations

import re
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NAMED = re.compile(
    r"\b((?:workflow|web|cli|docs|deploy|bench|tests)/[\w./-]*\w\.(?:py|md|png|toml))"
)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_every_file_the_readme_names_exists() -> None:
    named = set(NAMED.findall(README))
    assert len(named) > 20  # the pattern reads the table
    assert sorted(n for n in named if not (ROOT / n).exists()) == []


def test_the_readme_shows_the_task_list_and_the_case_page_on_a_phone() -> None:
    shown = re.findall(r'<img src="(docs/[\w-]+\.png)"', README)
    assert {"docs/tasks-phone.png", "docs/case-page-phone.png"} <= set(shown)
    for name in shown:
        path = ROOT / name
        assert path.stat().st_size < 100_000, name
        assert _png_size(path) == (390, 844), name
