"""Server-side SVG charts: pure functions from plain values to SVG markup strings.

No Django, no database, no JavaScript: a page embeds the returned string inline. Every
label is XML-escaped here, so text from an uploaded file (column names, label values)
cannot inject markup.
"""

from __future__ import annotations

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
