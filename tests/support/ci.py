"""Whether the suite runs in CI, and what to do when real test infrastructure is missing.

Locally a missing component (no PostgreSQL, no Chromium) skips the tests that need it,
with the reason. In CI (env ``CI=true``) it fails them: CI must never pass by skipping.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when the environment variable ``CI`` is ``true`` (as CI sets it)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the current test locally; fail it in CI."""
    if in_ci():
        pytest.fail(
            f"{reason} (CI=true: real test infrastructure is required, not skipping)", pytrace=False
        )
    pytest.skip(reason)
