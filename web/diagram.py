"""The process drawn on the server, from workflow/process.py alone: the case page's
progress stepper ("Bước 7/12") and /process's diagram, a vertical SVG a phone can read.

Nothing here lists a state or an event. The *main path* is read off the table: from
the state a nomination creates, the first event in the table's order (the table lists
the usual step first) that leads to a state not yet passed, until a state with no way
on. Every other transition is drawn as a detour (back, or skipping a step) or as an
exit to a closing state. The SVG carries presentation attributes and classes only —
no inline style, so every page stays under the strict Content-Security-Policy.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from workflow import process
from workflow.models import HistoryEvent


@cache
def main_path() -> tuple[process.Event, ...]:
    """The events from nomination to the last state, by the usual route."""
    assert process.NOMINATE.target is not None
    state, seen = process.NOMINATE.target, {process.NOMINATE.target}
    path: list[process.Event] = []
    while True:
        step = next(
            (
                e
                for e in process.EVENTS
                if state in e.sources and e.target is not None and e.target not in seen
            ),
            None,
        )
        if step is None or step.target is None:
            return tuple(path)
        path.append(step)
        seen.add(step.target)
        state = step.target


def path_states() -> tuple[str, ...]:
    """The states the main path passes through, the first (nominated) included."""
    assert process.NOMINATE.target is not None
    return (process.NOMINATE.target, *(e.target for e in main_path() if e.target))


# ── the case page's stepper ──────────────────────────────────────────────
@dataclass(frozen=True)
class Step:
    number: int
    event: process.Event
    status: str  # done | current | todo | stopped


@dataclass(frozen=True)
class Progress:
    steps: tuple[Step, ...]
    total: int
    done: int  # steps behind the case
    finished: bool  # the last state reached
    closed: str | None  # the closing state (rejected…) the case left the path for

    @property
    def current(self) -> Step | None:
        return next((s for s in self.steps if s.status in ("current", "stopped")), None)


def progress(state: str, rows: Sequence[HistoryEvent] = ()) -> Progress:
    """Where a case in `state` stands on the main path. A case closed off the path
    (rejected, withdrawn, removed) stands where its history says it left it."""
    states = path_states()
    closed = None
    if state in states:
        done = states.index(state)
    else:
        closed = state
        left_from = next(
            (
                r.from_state
                for r in reversed(rows)
                if r.to_state == state and r.from_state in states
            ),
            None,
        )
        done = states.index(left_from) if left_from else 0
    events = main_path()
    here = "stopped" if closed else "current"
    steps = tuple(
        Step(n, event, "done" if n <= done else here if n == done + 1 else "todo")
        for n, event in enumerate(events, start=1)
    )
    return Progress(steps, len(events), done, done == len(events), closed)


# ── /process: the whole diagram ──────────────────────────────────────────
WIDTH = 360
BOX_LEFT, BOX_RIGHT = 44, 318
ARROW_X = 70
LABEL_X = 90
RAIL_X = 326  # the first exit rail; the next ones 11 units to the right
LINE = 16  # a line of box text (13-unit font)
SMALL_LINE = 15  # a line of arrow text (12-unit font)
BOX_CHARS = 34  # characters a box line holds
LABEL_CHARS = 32  # characters an arrow line holds


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


@dataclass
class Box:
    state: str
    lines: list[str]
    y: float
    height: float
    current: bool = False
    terminal: bool = False
    x: float = BOX_LEFT
    width: float = BOX_RIGHT - BOX_LEFT

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass
class Arrow:
    number: int
    y1: float
    y2: float
    lines: list[str]  # the event's label
    detours: list[str]  # the other ways out of the state above ("or: … → …")
    label_y: float


@dataclass
class Detour:
    """A transition between two states of the path that is not the next step: a way
    back (the class failed) or a skip (no committee step): a curve in the left gutter."""

    path: str
    title: str


@dataclass
class Rail:
    """The closing exits one event offers from several states: a vertical line on the
    right with a tick from each of those states, down to the closing state's box."""

    x: float
    ticks: list[float]
    y1: float
    y2: float
    state: str
    title: str


@dataclass
class Diagram:
    width: int
    height: float
    boxes: list[Box]
    arrows: list[Arrow]
    detours: list[Detour]
    rails: list[Rail]
    description: str
    ends_y: float


def diagram(label: Callable[[object], str], highlight: str | None = None) -> Diagram:
    """The process laid out top to bottom: the path's states as boxes, each step an
    arrow labelled with its event and number, detours on the left, closing exits as
    rails on the right ending in the closing states' boxes at the bottom."""
    states = path_states()
    events = main_path()
    on_path = {(e.name, source) for e, source in zip(events, states, strict=False)}
    boxes: list[Box] = []
    arrows: list[Arrow] = []
    y = 8.0
    for n, name in enumerate(states):
        spec = process.state(name)
        lines = wrap(label(spec), BOX_CHARS)
        box = Box(name, lines, y, 14 + LINE * len(lines), name == highlight, spec.terminal)
        boxes.append(box)
        y = box.bottom
        if n < len(events):
            step = events[n]
            text = wrap(label(step), LABEL_CHARS)
            others = [
                f"{label(e)} → {label(process.state(e.target))}"
                for e in process.EVENTS
                if name in e.sources and e.target in states and (e.name, name) not in on_path
            ]
            detour_lines = [line for d in others for line in wrap("↷ " + d, LABEL_CHARS + 2)]
            gap = 18 + SMALL_LINE * (len(text) + len(detour_lines))
            arrows.append(Arrow(n + 1, y, y + gap, text, detour_lines, y + 15))
            y += gap
    index = {b.state: b for b in boxes}
    detours = _detours(label, index, on_path)
    ends_y = y + 34
    rails, ends = _exits(label, index, ends_y, highlight)
    boxes += ends
    height = max(b.bottom for b in boxes) + 8
    description = "; ".join(f"{a.number}. {' '.join(a.lines)}" for a in arrows)
    return Diagram(WIDTH, height, boxes, arrows, detours, rails, description, ends_y)


def _detours(
    label: Callable[[object], str], index: dict[str, Box], on_path: set[tuple[str, str]]
) -> list[Detour]:
    pairs = [
        (e, source)
        for e in process.EVENTS
        if e.target in index
        for source in e.sources
        if source in index and (e.name, source) not in on_path
    ]
    shown = []
    for n, (e, source) in enumerate(pairs):
        if e.target is not None:
            a, b = index[source], index[e.target]
            x = BOX_LEFT - 10 - 10 * (n % 3)
            start, end = a.middle, b.middle
            shown.append(
                Detour(
                    f"M{BOX_LEFT} {start:.0f} H{x} V{end:.0f} H{BOX_LEFT - 2}",
                    f"{label(e)}: {label(process.state(source))} → {label(process.state(e.target))}",
                )
            )
    return shown


def _exits(
    label: Callable[[object], str], index: dict[str, Box], top: float, highlight: str | None
) -> tuple[list[Rail], list[Box]]:
    """Each closing state off the path, a box in a column at the bottom; a rail from the
    path's states its events leave from."""
    closing = [
        s
        for s in process.STATES
        if s.terminal and s.name not in index and any(e.target == s.name for e in process.EVENTS)
    ]
    rails: list[Rail] = []
    ends: list[Box] = []
    y = top
    for n, spec in enumerate(closing):
        lines = wrap(label(spec), BOX_CHARS - 4)
        box = Box(spec.name, lines, y, 14 + LINE * len(lines), spec.name == highlight, True)
        box.x, box.width = BOX_LEFT + 40, BOX_RIGHT - BOX_LEFT - 40
        ends.append(box)
        sources = sorted(
            {s for e in process.EVENTS if e.target == spec.name for s in e.sources if s in index},
            key=lambda s: index[s].y,
        )
        names = ", ".join(label(e) for e in process.EVENTS if e.target == spec.name)
        rail_x = RAIL_X + 11 * n
        if sources:
            rails.append(
                Rail(
                    rail_x,
                    [index[s].middle for s in sources],
                    index[sources[0]].middle,
                    box.middle,
                    spec.name,
                    f"{names} → {label(spec)}",
                )
            )
        y = box.bottom + 10
    return rails, ends


def listing(label: Callable[[object], str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The diagram as text: each state, and each event leaving it with where it leads."""
    rows = []
    for spec in process.STATES:
        leaving = [
            (label(e), label(process.state(e.target)) if e.target else "")
            for e in process.EVENTS
            if spec.name in e.sources
        ]
        rows.append((spec.name, leaving))
    return rows
