"""The public market statistics page: trades, turnover, prices against quality, participants.

The figures are ``selectors.trading.market_stats`` (the same as ``/api/v1/market/stats/``);
this view only shapes them into tiles, tables and server-side SVG charts.
"""

from __future__ import annotations

from datetime import date

from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from exchange.pagecache import cached_public_page
from exchange.selectors import trading as trading_sel
from exchange.web import present
from exchange.web.charts import Bar, Column, Point, column_chart, hbar_chart, scatter_chart

MONTHS = 12
# The two time-series charts sit side by side: a narrower viewBox keeps their text legible.
HALF_WIDTH = 460


def _svg(markup: str) -> SafeString:
    # exchange.web.charts escapes every label and value it draws.
    return mark_safe(markup)  # noqa: S308


def axis_money(fen: float) -> str:
    """Grid values: whole yuan without cents (¥2,500), smaller amounts with them (¥0.50)."""
    fen = int(round(fen))
    return f"¥{fen // 100:,}" if fen % 100 == 0 else present.money(fen)


def month_series(rows: list[dict], *, end: date, months: int = MONTHS) -> list[dict]:
    """One row per calendar month of the window ending at ``end``, zeros where nothing traded."""
    by_month = {row["month"]: row for row in rows}
    year, month = end.year, end.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return [{"month": key, "trades": by_month.get(key, {}).get("trades", 0),
             "turnover_fen": by_month.get(key, {}).get("turnover_fen", 0)} for key in reversed(keys)]


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{year[2:]}-{month}"


def _cell_point(cell: dict) -> Point:
    """One dot per grid cell at its centre, its area growing with the number of offers in it."""
    low, high = cell["price_from_fen"], cell["price_to_fen"] or cell["price_from_fen"] * 2
    price_range = f"{present.money(low)}–{present.money(high)}"
    return Point(x=(cell["score_from"] + cell["score_to"]) / 2, y=(low * high) ** 0.5, tone=cell["grade"] or "",
                 size=cell["offers"],
                 label=f"Grade {cell['grade']}, score {cell['score_from']}–{cell['score_to']}, {price_range}: "
                       f"{cell['offers']:,} offer{'s' * (cell['offers'] != 1)}")


@cached_public_page
def market(request):
    stats = trading_sel.market_stats(months=MONTHS)
    end = timezone.localdate(stats["generated_at"])
    series = month_series(stats["by_month"], end=end)
    turnover_chart = column_chart(
        [Column(label=_month_label(m["month"]), value=m["turnover_fen"], text=present.money(m["turnover_fen"]))
         for m in series], title="Turnover per month (CNY)", fmt=present.money, axis_fmt=axis_money, width=HALF_WIDTH)
    trades_chart = column_chart(
        [Column(label=_month_label(m["month"]), value=m["trades"], text=f"{m['trades']:,} trade{'s' * (m['trades'] != 1)}")
         for m in series], title="Trades per month", integer=True, width=HALF_WIDTH)
    category_chart = hbar_chart(
        [Bar(label=row["label"], value=row["turnover_fen"],
             text=f"{present.money(row['turnover_fen'])} · {row['trades']}") for row in stats["by_category"]],
        title="Turnover by category (CNY)")
    grade_chart = hbar_chart(
        [Bar(label=f"Grade {row['grade']}", value=row["median_price_fen"],
             text=f"{present.money(row['median_price_fen'])} · {row['offers']}") for row in stats["median_price_by_grade"]],
        title="Median offer price by quality grade (CNY)")
    scatter = scatter_chart([_cell_point(cell) for cell in stats["price_vs_quality"]],
        title="Offer price against quality score", x_label="Quality score (0–100)", y_label="Price (CNY)",
        fmt=present.money, axis_fmt=axis_money)
    average = stats["turnover_fen"] // stats["trades"] if stats["trades"] else None
    return render(request, "exchange/market.html", {
        "stats": stats,
        "turnover": present.money(stats["turnover_fen"]),
        "average": present.money(average),
        "window_start": series[0]["month"], "window_end": series[-1]["month"],
        "top_datasets": [{**row, "turnover": present.money(row["turnover_fen"])} for row in stats["top_datasets"]],
        "categories": [{**row, "turnover": present.money(row["turnover_fen"])} for row in stats["by_category"]],
        "grades": [{**row, "median": present.money(row["median_price_fen"])} for row in stats["median_price_by_grade"]],
        "turnover_chart": _svg(turnover_chart), "trades_chart": _svg(trades_chart),
        "category_chart": _svg(category_chart), "grade_chart": _svg(grade_chart), "scatter_chart": _svg(scatter),
    })
