"""Pure helpers: yuan parsing, money formatting, SVG charts."""

import pytest
from django import forms

from exchange.web.charts import Bar, hbar_chart
from exchange.web.forms import yuan_to_fen
from exchange.web.present import money, quality_view
from workers.quality.report import Report


@pytest.mark.parametrize(("text", "fen"), [("19.99", 1999), ("1,234.5", 123450), ("0.01", 1), ("7", 700),
                                           ("12.", 1200), (" ¥3.10 ", 310), ("0.29", 29), ("1.10", 110)])
def test_yuan_to_fen_is_exact(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["12.345", "-1", "abc", "1e3", "NaN", "Infinity", "١٢", "", "1.2.3"])
def test_yuan_to_fen_refuses(text):
    with pytest.raises(forms.ValidationError):
        yuan_to_fen(text)


@pytest.mark.parametrize(("fen", "text"), [(123450, "¥1,234.50"), (1, "¥0.01"), (1000, "¥10.00"), (None, "—"),
                                           (100_000_000_00, "¥100,000,000.00")])
def test_money(fen, text):
    assert money(fen) == text


def test_hbar_chart_escapes_labels_and_scales_bars():
    svg = hbar_chart([Bar("<b>&</b>", 50), Bar("full", 100)], title='t"', max_value=100)

    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<b>" not in svg
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in svg
    assert 'aria-label="t&quot;"' in svg
    # track is 640 - 180 - 90 - 16 = 354 units; 50 % is 177.
    assert 'width="177.0"' in svg
    assert 'width="354.0"' in svg


def test_hbar_chart_without_bars_says_no_data():
    assert "No data" in hbar_chart([], title="x")


def test_hbar_chart_small_nonzero_value_stays_visible():
    svg = hbar_chart([Bar("tiny", 1), Bar("huge", 100000)], title="x")

    assert 'class="chart-bar" ' not in svg
    assert 'width="2"' in svg


def test_quality_panel_lists_constraint_findings():
    from django.template.loader import render_to_string

    report = {"rows": 10, "columns": [], "gates": {"passed": False, "failures": []},
              "findings": [{"code": "constraint_enum", "field": "Sex", "constraint": "enum", "value": ["m", "f"],
                            "count": 3, "rows": [4, 9, 11]}]}
    html = render_to_string("exchange/_quality_report.html", {"quality": quality_view(Report.from_dict(report))})
    assert "Schema constraints" in html and "constraint_enum" in html and "4, 9, 11" in html
    assert "Schema constraints" not in render_to_string("exchange/_quality_report.html",
                                                        {"quality": quality_view(Report.from_dict({**report, "findings": []}))})
