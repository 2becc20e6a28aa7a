"""Server-side SVG charts: pure functions from plain values to SVG markup strings.

No Django, no database, no JavaScript: a page embeds the returned string inline. Every
label is XML-escaped here, so text from an uploaded file (column names, label values)
cannot inject markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

# Geometry in SVG user units; the chart scales to its container's width (viewBox).
WIDTH = 640
LABEL_WIDTH = 180
VALUE_WIDTH = 90
BAR_HEIGHT = 18
GAP = 8
PAD = 8
# Longer labels are cut so a 200-character column name cannot push the bars off the chart.
MAX_LABEL_CHARS = 26


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    # Shown right of the bar; defaults to the value formatted with the chart's formatter.
    text: str | None = None
    # A CSS class for the bar: "", "warn" or "bad" (coloured by the site's stylesheet).
    tone: str = ""


def _short(label: str) -> str:
    label = str(label)
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def hbar_chart(bars: list[Bar], *, title: str, max_value: float | None = None, fmt=_number) -> str:
    """A horizontal bar chart as an ``<svg>`` string.

    ``max_value`` fixes the scale (e.g. 100 for percentages); by default the largest bar
    fills the width. An empty list draws a short "no data" note instead of bars.
    """
    if not bars:
        height = BAR_HEIGHT + 2 * PAD
        return (f'<svg class="chart" role="img" aria-label="{escape(title)}: no data" viewBox="0 0 {WIDTH} {height}" '
                f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
                f'<text x="{PAD}" y="{PAD + 13}" class="chart-empty">No data</text></svg>')
    top = max_value if max_value and max_value > 0 else max((b.value for b in bars), default=0)
    top = top if top > 0 else 1
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 2 * PAD
    height = PAD * 2 + len(bars) * (BAR_HEIGHT + GAP) - GAP
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = PAD + i * (BAR_HEIGHT + GAP)
        value = max(float(bar.value), 0.0)
        length = round(track * min(value / top, 1.0), 1)
        if value > 0 and length < 2:
            length = 2  # a non-zero value is always visible
        text = bar.text if bar.text is not None else fmt(bar.value)
        tone = f" {escape(bar.tone)}" if bar.tone else ""
        parts.append(
            f'<g class="chart-row"><title>{escape(str(bar.label))}: {escape(text)}</title>'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end" class="chart-label">{escape(_short(bar.label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{track}" height="{BAR_HEIGHT}" rx="3" class="chart-track"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" rx="3" class="chart-bar{tone}"/>'
            f'<text x="{LABEL_WIDTH + track + 6}" y="{y + 13}" class="chart-value">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def percent(value: float) -> str:
    return f"{value:.1f}%"


# --- Column and scatter charts (market statistics) --------------------------------
# Plot area inside the 640-unit viewBox: room on the left for the y-axis labels and
# below for the x labels.
PLOT_LEFT = 64
PLOT_RIGHT = 12
PLOT_TOP = 14
PLOT_BOTTOM = 30
COLUMN_HEIGHT = 220
SCATTER_HEIGHT = 280
GRID_STEPS = 4


@dataclass(frozen=True)
class Column:
    label: str
    value: float
    # Shown above the column and in its tooltip; defaults to the formatted value.
    text: str | None = None
    tone: str = ""


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    # Tooltip text (e.g. "Grade B, score 81: ¥3,500.00").
    label: str = ""
    # A CSS class suffix for the dot, e.g. a quality grade "A".."E".
    tone: str = ""
    # How many things the dot stands for (a binned scatter): the dot's area grows with it.
    size: int = 1


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _empty(title: str, height: int, width: int = WIDTH) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}: no data" viewBox="0 0 {width} {height}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" class="chart-empty">No data yet</text></svg>')


def _y_top(values, *, integer: bool) -> float:
    top = nice_ceiling(max(max(float(v) for v in values), 0))
    # Whole counts get whole grid values: at least one unit per grid step.
    return max(top, GRID_STEPS) if integer else top


def _y_grid(top: float, height: int, axis_fmt, width: int = WIDTH) -> list[str]:
    """Horizontal grid lines with their values, from 0 to ``top``."""
    plot_h = height - PLOT_TOP - PLOT_BOTTOM
    parts = []
    for i in range(GRID_STEPS + 1):
        value = top * i / GRID_STEPS
        y = round(PLOT_TOP + plot_h - plot_h * i / GRID_STEPS, 1)
        parts.append(f'<line x1="{PLOT_LEFT}" y1="{y}" x2="{width - PLOT_RIGHT}" y2="{y}" class="chart-grid"/>'
                     f'<text x="{PLOT_LEFT - 6}" y="{y + 4}" text-anchor="end" class="chart-axis">'
                     f'{escape(axis_fmt(value))}</text>')
    return parts


def column_chart(columns: list[Column], *, title: str, fmt=_number, axis_fmt=None, integer: bool = False,
                 width: int = WIDTH) -> str:
    """A vertical column chart (e.g. turnover per month) as an ``<svg>`` string.

    The y axis starts at zero and ends at a round number above the tallest column
    (``integer``: whole grid values, for counts); ``axis_fmt`` formats the grid values
    (default ``fmt``); ``width`` is the viewBox width (smaller for a half-width column,
    so the text stays legible). Labels are escaped.
    """
    if not columns:
        return _empty(title, COLUMN_HEIGHT, width)
    axis_fmt = axis_fmt or fmt
    top = _y_top((c.value for c in columns), integer=integer)
    plot_w = width - PLOT_LEFT - PLOT_RIGHT
    plot_h = COLUMN_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_w / len(columns)
    bar_w = round(min(slot * 0.7, 56), 1)
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {COLUMN_HEIGHT}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    parts += _y_grid(top, COLUMN_HEIGHT, axis_fmt, width)
    # Label every n-th column (counting back from the latest) so x labels never overlap.
    every = max(1, -(-len(columns) * 640 // (12 * width)))
    for i, col in enumerate(columns):
        value = max(float(col.value), 0.0)
        h = round(plot_h * min(value / top, 1.0), 1)
        if value > 0 and h < 2:
            h = 2
        x = round(PLOT_LEFT + slot * i + (slot - bar_w) / 2, 1)
        cx = round(PLOT_LEFT + slot * i + slot / 2, 1)
        y = round(PLOT_TOP + plot_h - h, 1)
        text = col.text if col.text is not None else fmt(col.value)
        tone = f" {escape(col.tone)}" if col.tone else ""
        label = (f'<text x="{cx}" y="{COLUMN_HEIGHT - PLOT_BOTTOM + 16}" text-anchor="middle" class="chart-label">'
                 f'{escape(_short(col.label))}</text>') if (len(columns) - 1 - i) % every == 0 else ""
        parts.append(f'<g class="chart-col"><title>{escape(str(col.label))}: {escape(text)}</title>'
                     f'<rect x="{x}" y="{y}" width="{bar_w}" height="{h}" rx="2" class="chart-bar{tone}"/>{label}</g>')
    parts.append(f'<line x1="{PLOT_LEFT}" y1="{PLOT_TOP + plot_h}" x2="{width - PLOT_RIGHT}" y2="{PLOT_TOP + plot_h}" '
                 f'class="chart-axis-line"/></svg>')
    return "".join(parts)


def scatter_chart(points: list[Point], *, title: str, x_label: str, y_label: str, x_max: float = 100,
                  fmt=_number, axis_fmt=None, width: int = WIDTH) -> str:
    """A scatter plot (e.g. price against quality score) as an ``<svg>`` string.

    x runs from 0 to ``x_max``; y from 0 to a round number above the largest value.
    Each dot carries its escaped ``label`` as a tooltip and ``chart-dot dot-<tone>`` classes.
    """
    if not points:
        return _empty(title, SCATTER_HEIGHT, width)
    axis_fmt = axis_fmt or fmt
    top = _y_top((p.y for p in points), integer=False)
    plot_w = width - PLOT_LEFT - PLOT_RIGHT
    plot_h = SCATTER_HEIGHT - PLOT_TOP - PLOT_BOTTOM - 14  # room for the x-axis title
    base = PLOT_TOP + plot_h
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {SCATTER_HEIGHT}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    parts += _y_grid(top, SCATTER_HEIGHT - 14, axis_fmt, width)
    for i in range(5):
        value = x_max * i / 4
        x = round(PLOT_LEFT + plot_w * i / 4, 1)
        parts.append(f'<line x1="{x}" y1="{base}" x2="{x}" y2="{base + 4}" class="chart-axis-line"/>'
                     f'<text x="{x}" y="{base + 16}" text-anchor="middle" class="chart-axis">{escape(_number(value))}</text>')
    parts.append(f'<line x1="{PLOT_LEFT}" y1="{base}" x2="{width - PLOT_RIGHT}" y2="{base}" class="chart-axis-line"/>'
                 f'<text x="{PLOT_LEFT + plot_w / 2}" y="{SCATTER_HEIGHT - 4}" text-anchor="middle" '
                 f'class="chart-axis-title">{escape(x_label)}</text>'
                 f'<text x="{PLOT_LEFT}" y="{PLOT_TOP - 4}" class="chart-axis-title">{escape(y_label)}</text>')
    for p in points:
        x = round(PLOT_LEFT + plot_w * min(max(float(p.x), 0.0) / (x_max or 1), 1.0), 1)
        y = round(base - plot_h * min(max(float(p.y), 0.0) / top, 1.0), 1)
        tone = f" dot-{escape(p.tone)}" if p.tone else ""
        tip = p.label or f"{_number(p.x)}: {fmt(p.y)}"
        r = round(min(4 + 2 * math.log10(max(p.size, 1)) * 2, 14), 1)
        parts.append(f'<circle cx="{x}" cy="{y}" r="{r}" class="chart-dot{tone}"><title>{escape(tip)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
