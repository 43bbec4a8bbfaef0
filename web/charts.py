"""Charts drawn on the server as SVG: nothing to download, nothing to run in the browser,
and the page's Content-Security-Policy stays strict (presentation attributes only, no
inline style). Each chart carries a <title> and <desc>; the table beside it holds the
same figures for screen readers and for copying.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

from markupsafe import Markup

from workflow.reports.figures import vi_number, vi_percent_value

RED, GOLD, INK, GRID, MUTED = "#b71c1c", "#f9a825", "#263238", "#e0e0e0", "#607d8b"
TARGET_COLOURS = ("#1565c0", "#2e7d32", "#6a1b9a")
FONT = 12


class Chart(NamedTuple):
    title: str
    svg: Markup


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is printed at the bar's end ("313 (50,1%)")


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ not below `value`, at least 5: five whole steps."""
    if value <= 5:
        return 5
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _text(
    x: float, y: float, content: str, anchor: str = "start", fill: str = INK, size: int = FONT
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(content)}</text>'
    )


def _svg(
    width: int, height: int, title: str, desc: str, body: list[str], key: str, kind: str = ""
) -> Chart:
    return Chart(
        title,
        Markup(
            f'<svg class="chart{" chart-" + kind if kind else ""}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-labelledby="{key}-t {key}-d">'
            f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(desc)}</desc>'
            + "".join(body)
            + "</svg>"
        ),
    )


def bar_chart(title: str, bars: Sequence[Bar], key: str) -> Chart:
    """Horizontal bars, one per category, the longest scaled to the full width."""
    label_width, bar_width, row = 190, 330, 24
    height = 16 + row * max(len(bars), 1)
    top = max((b.value for b in bars), default=0) or 1
    body: list[str] = []
    for n, bar in enumerate(bars):
        y = 8 + n * row
        length = bar_width * bar.value / top
        body.append(_text(label_width - 8, y + 15, _clip(bar.label, 30), "end"))
        body.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{RED}" rx="2"/>'
        )
        body.append(_text(label_width + length + 6, y + 15, bar.text))
    if not bars:
        body.append(_text(label_width, 24, "Không có số liệu", fill=MUTED))
    desc = "; ".join(f"{b.label}: {b.text}" for b in bars) or "Không có số liệu"
    return _svg(label_width + bar_width + 110, height, title, desc, body, key)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


@dataclass(frozen=True)
class TargetLine:
    label: str
    number: int


# The monthly chart is drawn narrow (a phone shows it at ~0.7 scale) and its month
# labels thinned, and turned when they would still touch, so that two never overlap.
MONTH_FONT = 13
MONTH_TURN = 45  # degrees a turned label is rotated by


@dataclass(frozen=True)
class MonthTicks:
    every: int  # one label every `every` months
    turned: bool


def month_ticks(
    count: int, slot: float, label_chars: int = 7, font: int = MONTH_FONT
) -> MonthTicks:
    """How to label `count` months `slot` units apart without two labels touching:
    level while a label (~0.62 em a character) fits its slot with a gap; else turned
    45°, one every so many months that the turned labels stay a line and a bit apart."""
    width = label_chars * 0.62 * font + 6
    if slot >= width:
        return MonthTicks(1, False)
    apart = font * 1.35 / math.sin(math.radians(MONTH_TURN))
    return MonthTicks(max(1, math.ceil(apart / max(slot, 0.1))), True)


def monthly_chart(
    title: str, months: Sequence[dict[str, Any]], field: str, lines: Sequence[TargetLine], key: str
) -> Chart:
    """Bars per month, the running total as a line, and each target as a dashed line."""
    left, right, top, width = 44, 12, 16, 480
    slot = (width - left - right) / max(len(months), 1)
    ticks = month_ticks(len(months), slot)
    label_depth = 58 if ticks.turned else 20
    height = 250 + label_depth
    bottom = label_depth + 44
    plot_w, plot_h = width - left - right, height - top - bottom
    cumulative = [m[f"{field}_cumulative"] for m in months]
    monthly = [m[field] for m in months]
    ceiling = _nice_ceiling(max([*cumulative, *(t.number for t in lines), 1]))

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / ceiling

    body = _axes(left, top, plot_w, plot_h, ceiling, y_of)
    for n, (count, month) in enumerate(zip(monthly, months, strict=True)):
        x = left + n * slot
        if count:
            body.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{y_of(count):.1f}" width="{slot * 0.7:.1f}" '
                f'height="{top + plot_h - y_of(count):.1f}" fill="{GOLD}"/>'
            )
        if n % ticks.every == 0:
            body.append(_month_label(x + slot / 2, top + plot_h, month["label"], ticks.turned))
    points = " ".join(
        f"{left + (n + 0.5) * slot:.1f},{y_of(v):.1f}" for n, v in enumerate(cumulative)
    )
    body.append(f'<polyline points="{points}" fill="none" stroke="{RED}" stroke-width="2.5"/>')
    for line, colour in zip(lines, TARGET_COLOURS, strict=False):
        y = y_of(line.number)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        body.append(_text(left + plot_w - 4, y - 5, line.label, "end", fill=colour))
    body += _legend(left, height - 14, lines)
    total = cumulative[-1] if cumulative else 0
    desc = f"Lũy kế {vi_number(total)}; " + "; ".join(
        f"{t.label}: {vi_number(t.number)}" for t in lines
    )
    return _svg(width, height, title, desc, body, key, "monthly")


def _month_label(x: float, axis_y: float, label: str, turned: bool) -> str:
    """A month under the axis: level and centred, or turned and ending at its tick."""
    if not turned:
        return (
            f'<text class="month" x="{x:.1f}" y="{axis_y + 17:.1f}" font-size="{MONTH_FONT}" '
            f'text-anchor="middle" fill="{INK}">{escape(label)}</text>'
        )
    y = axis_y + 12
    return (
        f'<text class="month" x="{x:.1f}" y="{y:.1f}" font-size="{MONTH_FONT}" '
        f'text-anchor="end" fill="{INK}" transform="rotate(-{MONTH_TURN} {x:.1f} {y:.1f})">'
        f"{escape(label)}</text>"
    )


def _axes(
    left: int, top: int, plot_w: float, plot_h: float, ceiling: float, y_of: Any
) -> list[str]:
    body = []
    for step in range(6):
        value = ceiling * step / 5
        y = y_of(value)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, y + 4, vi_number(round(value)), "end", fill=MUTED))
    body.append(
        f'<line x1="{left}" y1="{top + plot_h:.1f}" x2="{left + plot_w:.1f}" '
        f'y2="{top + plot_h:.1f}" stroke="{INK}" stroke-width="1"/>'
    )
    return body


def _legend(x: int, y: int, lines: Sequence[TargetLine]) -> list[str]:
    items = [
        f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{GOLD}"/>',
        _text(x + 16, y, "Kết nạp trong tháng"),
        f'<line x1="{x + 150}" y1="{y - 4}" x2="{x + 174}" y2="{y - 4}" stroke="{RED}" '
        'stroke-width="2.5"/>',
        _text(x + 180, y, "Lũy kế"),
    ]
    if lines:
        items.append(
            f'<line x1="{x + 250}" y1="{y - 4}" x2="{x + 274}" y2="{y - 4}" stroke="{TARGET_COLOURS[0]}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
        )
        items.append(_text(x + 280, y, "Chỉ tiêu"))
    return items


def share_bars(rows: Sequence[dict[str, Any]]) -> list[Bar]:
    """Breakdown rows ({label, count, percent}) as bars: "313 (50,1%)"."""
    return [
        Bar(r["label"], r["count"], f"{vi_number(r['count'])} ({vi_percent_value(r['percent'])})")
        for r in rows
    ]


def count_bars(rows: Sequence[tuple[str, int]]) -> list[Bar]:
    return [Bar(label, n, vi_number(n)) for label, n in rows]


def duration_chart(
    title: str, steps: Sequence[tuple[str, int | None, int | None]], key: str, unit: str = "ngày"
) -> Chart:
    """Per step, its median and its 90th percentile as two horizontal bars under the
    step's name (drawn 390 wide so a phone shows it near full size); steps without a
    figure are left out."""
    width, left, value_room, row = 390, 8, 72, 50
    shown = [(label, m, p) for label, m, p in steps if m is not None and p is not None]
    top = max((p for _, _, p in shown), default=0) or 1
    bar_width = width - left - value_room
    body = [
        f'<rect x="{left}" y="6" width="12" height="12" fill="{RED}"/>',
        _text(left + 16, 16, "Trung vị"),
        f'<rect x="{left + 100}" y="6" width="12" height="12" fill="{GOLD}"/>',
        _text(left + 116, 16, "Phân vị 90 (P90)"),
    ]
    for n, (label, median, p90) in enumerate(shown):
        y = 28 + n * row
        body.append(_text(left, y + 12, _clip(label, 52), size=13))
        for offset, value, colour in ((17, median, RED), (31, p90, GOLD)):
            length = max(bar_width * value / top, 1)
            body.append(
                f'<rect x="{left}" y="{y + offset}" width="{length:.1f}" height="11" '
                f'fill="{colour}" rx="2"/>'
            )
            body.append(_text(left + length + 5, y + offset + 10, f"{vi_number(value)} {unit}"))
    if not shown:
        body.append(_text(left, 44, "Không có số liệu", fill=MUTED))
    desc = (
        "; ".join(
            f"{label}: trung vị {vi_number(m)}, P90 {vi_number(p)} {unit}" for label, m, p in shown
        )
        or "Không có số liệu"
    )
    height = 36 + row * max(len(shown), 1)
    return _svg(width, height, title, desc, body, key, "durations")


@dataclass(frozen=True)
class Projection:
    """One target's forecast as the chart draws it: recorded, the expected total and its
    80 % interval (None when the history was too thin), against the target."""

    label: str
    number: int
    recorded: int
    expected: float | None
    low: int | None
    high: int | None


def forecast_chart(title: str, rows: Sequence[Projection], key: str) -> Chart:
    """Per target, its name on a line of its own, then a bar of the admissions recorded,
    the expected rest stacked on it (gold), the 80 % interval as a whisker and the
    target as a dashed mark — each scaled to its own target, so a year and a term share
    one chart — and the figures in words under it. Drawn narrow (360 wide) with the
    labels above the bars, so a phone shows it at nearly full size."""
    left, bar_width, row = 4, 330, 66
    height = 34 + row * max(len(rows), 1)
    body: list[str] = []
    for n, target in enumerate(rows):
        body += _projection_row(target, left, bar_width, 8 + n * row)
    if not rows:
        body.append(_text(left, 24, "Không có chỉ tiêu đang trong kỳ", fill=MUTED))
    body += _projection_legend(left, height - 8)
    desc = "; ".join(f"{t.label}: {_projection_text(t)}" for t in rows) or "Không có chỉ tiêu"
    return _svg(left + bar_width + 26, height, title, desc, body, key, "forecast")


def _projection_row(target: Projection, left: int, width: int, y: int) -> list[str]:
    top = max(target.number, target.high or 0, target.recorded, 1) * 1.08

    def x_of(value: float) -> float:
        return left + width * value / top

    body = [
        _text(left, y + 13, _clip(target.label, 34), size=13),
        _text(
            left + width + 20,
            y + 13,
            f"chỉ tiêu {vi_number(target.number)}",
            "end",
            fill=TARGET_COLOURS[0],
        ),
        f'<rect x="{left}" y="{y + 20}" width="{x_of(target.recorded) - left:.1f}" '
        f'height="16" fill="{RED}" rx="2"/>',
    ]
    if target.expected is not None and target.low is not None and target.high is not None:
        body.append(
            f'<rect x="{x_of(target.recorded):.1f}" y="{y + 20}" '
            f'width="{max(x_of(target.expected) - x_of(target.recorded), 0):.1f}" '
            f'height="16" fill="{GOLD}" rx="2"/>'
        )
        body.append(
            f'<line x1="{x_of(target.low):.1f}" y1="{y + 28}" x2="{x_of(target.high):.1f}" '
            f'y2="{y + 28}" stroke="{INK}" stroke-width="2"/>'
        )
        body += [
            f'<line x1="{x_of(end):.1f}" y1="{y + 22}" x2="{x_of(end):.1f}" y2="{y + 34}" '
            f'stroke="{INK}" stroke-width="2"/>'
            for end in (target.low, target.high)
        ]
    mark = x_of(target.number)
    body.append(
        f'<line x1="{mark:.1f}" y1="{y + 16}" x2="{mark:.1f}" y2="{y + 40}" '
        f'stroke="{TARGET_COLOURS[0]}" stroke-width="2" stroke-dasharray="4 3"/>'
    )
    body.append(_text(left, y + 54, _projection_caption(target), fill=MUTED))
    return body


def _projection_caption(target: Projection) -> str:
    recorded = f"đã kết nạp {vi_number(target.recorded)}"
    if target.expected is None or target.low is None or target.high is None:
        return f"{recorded}; chưa đủ số liệu để dự báo"
    return (
        f"{recorded}; dự kiến {vi_number(round(target.expected))} "
        f"({vi_number(target.low)} – {vi_number(target.high)})"
    )


def _projection_legend(x: int, y: int) -> list[str]:
    return [
        f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{RED}"/>',
        _text(x + 16, y, "Đã kết nạp"),
        f'<rect x="{x + 88}" y="{y - 10}" width="12" height="12" fill="{GOLD}"/>',
        _text(x + 104, y, "Dự kiến thêm"),
        f'<line x1="{x + 192}" y1="{y - 11}" x2="{x + 192}" y2="{y + 2}" '
        f'stroke="{TARGET_COLOURS[0]}" stroke-width="2" stroke-dasharray="4 3"/>',
        _text(x + 198, y, "Chỉ tiêu"),
        f'<line x1="{x + 254}" y1="{y - 4}" x2="{x + 272}" y2="{y - 4}" stroke="{INK}" '
        'stroke-width="2"/>',
        _text(x + 276, y, "Khoảng 80%"),
    ]


def _projection_text(target: Projection) -> str:
    recorded = f"đã kết nạp {vi_number(target.recorded)}"
    if target.expected is None or target.low is None or target.high is None:
        return f"{recorded} / chỉ tiêu {vi_number(target.number)}; chưa đủ số liệu để dự báo"
    return (
        f"{recorded}, dự kiến {vi_number(round(target.expected))} "
        f"({vi_number(target.low)} – {vi_number(target.high)}) / chỉ tiêu "
        f"{vi_number(target.number)}"
    )
