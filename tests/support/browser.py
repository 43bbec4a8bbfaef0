"""Launch the machine's Chromium (Debian's ``/usr/bin/chromium``) through Playwright.

Playwright's own browser downloads are never used (``playwright install`` needs the
network): the executable is ``$KETNAP_CHROMIUM`` or ``/usr/bin/chromium``. When it is
missing the calling test is skipped locally and fails in CI (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Playwright

from .ci import unavailable

ENV_EXECUTABLE = "KETNAP_CHROMIUM"
DEFAULT_EXECUTABLE = "/usr/bin/chromium"

# The network is closed here: keep Chromium from reaching out (and from failing on it).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_executable() -> str:
    """Path of the Chromium to drive; skips (locally) or fails (CI) when it is missing."""
    path = os.environ.get(ENV_EXECUTABLE, "").strip() or DEFAULT_EXECUTABLE
    candidate = Path(path)
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        unavailable(
            f"Chromium not found at {path} (set {ENV_EXECUTABLE}, or `apt-get install chromium`)"
        )
    return path


def launch_chromium(playwright: Playwright, **launch_options: Any) -> Browser:
    """Launch headless Chromium with Playwright's sync API; close the browser when done.

    Extra ``launch_options`` go to ``playwright.chromium.launch`` (``args`` are appended).
    """
    extra_args = list(launch_options.pop("args", ()))
    launch_options.setdefault("headless", True)
    return playwright.chromium.launch(
        executable_path=chromium_executable(),
        args=[*CHROMIUM_ARGS, *extra_args],
        **launch_options,
    )
