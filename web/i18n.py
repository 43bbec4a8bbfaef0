"""Maintain the interface catalogues: `python -m web.i18n` extracts the English msgids
from web/ (code and templates), merges them into every catalogue under
web/translations and compiles the .mo files (committed, so a clone needs no build).

Then translate the new empty msgstr entries of web/translations/vi/LC_MESSAGES/messages.po
and run it again; tests/web/test_i18n.py fails while any Vietnamese entry is empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"
POT = TRANSLATIONS / "messages.pot"
KEYWORDS = ["_", "_l", "gettext", "lazy_gettext", "ngettext:1,2"]


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]  # Babel ships no hints


def extract() -> None:
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    _babel(
        "extract",
        "-F",
        str(TRANSLATIONS / "babel.cfg"),
        "--no-location",
        "--sort-output",
        "--omit-header",
        *keywords,
        "-o",
        str(POT),
        str(ROOT / "web"),
    )


def update() -> None:
    extract()
    _babel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching")
    compile_catalogues()


def compile_catalogues() -> None:
    _babel("compile", "-d", str(TRANSLATIONS), "--use-fuzzy")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    {"update": update, "extract": extract, "compile": compile_catalogues}[command]()
