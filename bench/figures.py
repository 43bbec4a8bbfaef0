"""What a benchmark reports: one Figure per measured number, with its goal."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    benchmark: str  # e.g. "advance throughput"
    backend: str  # sqlite | postgresql | —
    value: float | None  # None: could not be measured (see `detail`)
    unit: str
    goal: str = ""  # e.g. "≥ 0.7"; empty: reported for context only
    met: bool | None = None
    detail: str = ""
    runs: list[float] = field(default_factory=list)

    def shown(self) -> str:
        if self.value is None:
            return "—"
        if abs(self.value) >= 100:
            return f"{self.value:,.0f} {self.unit}"
        if abs(self.value) >= 10:
            return f"{self.value:,.1f} {self.unit}"
        return f"{self.value:,.3g} {self.unit}"

    def verdict(self) -> str:
        if self.met is None:
            return "—" if not self.goal else "not measured"
        return "met" if self.met else "**not met**"


def at_least(value: float, goal: float) -> bool:
    return value >= goal


def at_most(value: float, goal: float) -> bool:
    return value <= goal


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds spent in `action()`, and what it returned."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def percentile(sorted_values: list[float], share: float) -> float:
    """The `share` (0..1) percentile of already sorted values (nearest rank)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(share * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
