"""Column statistics, label shares, near-duplicates/conflicts and the score breakdown, each on
its own small file, checked against independent computations (the statistics module)."""

from __future__ import annotations

import random
import statistics

import pytest

from tests.workers._quality_helpers import column, run
from workers.quality import QualityOptions
from workers.quality.score import WEIGHTS


def _csv(header: str, rows: list) -> str:
    return header + "\n" + "".join(",".join(str(v) for v in (r if isinstance(r, tuple) else (r,))) + "\n" for r in rows)


def _bins(values: list[float], lo: float, hi: float) -> list[int]:
    """Ten equal-width bins from lo to hi, last bin closed: an independent count."""
    counts = [0] * 10
    for v in values:
        b = 9 if v == hi else int((v - lo) // ((hi - lo) / 10))
        counts[b] += 1
    return counts


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "inferred"])
def test_numeric_statistics_exact(tmp_path, declared):
    rng = random.Random(3)
    values = [round(rng.uniform(-50, 250), 3) for _ in range(997)]
    schema = {"fields": [{"name": "x", "type": "number"}]} if declared else None
    r = run(tmp_path, _csv("x", values), schema, options=QualityOptions(batch_rows=100, block_size=2048))
    s = column(r, "x")["stats"]
    assert s["kind"] == "numeric" and s["approximate"] is False and s["approximate_fields"] == []
    assert s["count"] == 997
    assert s["min"] == min(values) and s["max"] == max(values)
    assert s["mean"] == pytest.approx(statistics.mean(values), rel=1e-12)
    assert s["median"] == pytest.approx(statistics.median(values), rel=1e-12)
    assert s["std"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    assert s["histogram"]["counts"] == _bins(values, min(values), max(values))
    assert sum(s["histogram"]["counts"]) == 997
    assert len(s["histogram"]["bin_edges"]) == 11


def test_integer_statistics_skip_invalid_and_missing_values(tmp_path):
    # given an integer column with an invalid value and empty cells
    data = "n\n4\n\n1\nabc\n10\n4\n"
    r = run(tmp_path, data, {"fields": [{"name": "n", "type": "integer"}]})
    s = column(r, "n")["stats"]
    # then only the valid integers count; min/max stay integers; even count → mean of middles
    assert (s["count"], s["min"], s["max"]) == (4, 1, 10)
    assert s["median"] == statistics.median([4, 1, 10, 4]) == 4
    assert s["std"] == pytest.approx(statistics.stdev([4, 1, 10, 4]))
    assert column(r, "n")["invalid_count"] == 1


def test_numeric_median_and_histogram_approximate_above_the_limit(tmp_path):
    # given more values than the profiler keeps for an exact median
    rng = random.Random(5)
    values = [rng.randint(0, 9999) for _ in range(6000)]
    opts = QualityOptions(stats_exact_limit=1024, batch_rows=500, block_size=4096)
    r = run(tmp_path, _csv("v", values), {"fields": [{"name": "v", "type": "integer"}]}, options=opts)
    s = column(r, "v")["stats"]
    # then median and histogram are approximate, the rest exact
    assert s["approximate"] is True
    assert s["approximate_fields"] == ["median", "histogram"]
    assert (s["count"], s["min"], s["max"]) == (6000, min(values), max(values))
    assert s["mean"] == pytest.approx(statistics.mean(values), rel=1e-12)
    assert s["std"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    assert abs(s["median"] - statistics.median(values)) < 500  # a 1024-value sample of uniform 0..9999
    assert sum(s["histogram"]["counts"]) == 6000
    exact = _bins(values, min(values), max(values))
    assert max(abs(a - b) for a, b in zip(s["histogram"]["counts"], exact, strict=True)) < 150


def test_small_file_is_exact_under_the_same_small_limit(tmp_path):
    values = list(range(1000))
    opts = QualityOptions(stats_exact_limit=1024, batch_rows=300, block_size=2048)
    r = run(tmp_path, _csv("v", values), None, options=opts)
    s = column(r, "v")["stats"]
    assert s["approximate"] is False and s["median"] == 499.5


def test_string_lengths_and_top_values(tmp_path):
    # given a low-cardinality city column and a free-text column
    cities = ["北京"] * 5 + ["上海"] * 3 + ["Hefei"] * 2
    texts = [f"review number {i} " + "x" * i for i in range(10)]
    data = _csv("city,text", list(zip(cities, texts, strict=True)))
    r = run(tmp_path, data, {"fields": [{"name": "city", "type": "string"}, {"name": "text", "type": "string"}]})
    city, text = column(r, "city")["stats"], column(r, "text")["stats"]
    assert city["kind"] == "string"
    assert city["length"] == {"min": 2, "max": 5, "mean": statistics.mean(len(c) for c in cities)}
    assert city["top_values"] == [{"value": "北京", "count": 5, "share": 0.5},
                                  {"value": "上海", "count": 3, "share": 0.3},
                                  {"value": "Hefei", "count": 2, "share": 0.2}]
    assert text["length"]["min"] == len(texts[0]) and text["length"]["max"] == len(texts[-1])
    assert text["length"]["mean"] == pytest.approx(statistics.mean(len(t) for t in texts))
    assert len(text["top_values"]) == 10  # ten distinct values: still low cardinality, top 10 shown


def test_top_values_absent_for_high_cardinality(tmp_path):
    data = _csv("code", [f"c{i}" for i in range(31)])
    r = run(tmp_path, data, options=QualityOptions(batch_rows=8, block_size=1024))
    assert column(r, "code")["stats"]["top_values"] is None


def test_label_counts_and_shares(tmp_path):
    schema = {"fields": [{"name": "text", "type": "string"}, {"name": "label", "type": "string"}],
              "labelField": "label", "labels": ["pos", "neg"]}
    data = "text,label\na,pos\nb,pos\nc,neg\nd,pos\ne,\nf,other\ng,neg\nh,pos\n"
    lab = run(tmp_path, data, schema)["labels"]
    assert lab["distribution"] == {"pos": 4, "neg": 2}
    assert lab["shares"] == {"pos": 0.5, "neg": 0.25}
    assert (lab["outside_share"], lab["missing_share"]) == (0.125, 0.125)
    assert sum(lab["shares"].values()) + lab["outside_share"] + lab["missing_share"] == 1


def test_near_duplicates_after_normalisation(tmp_path):
    # given "Hello,  World" vs "hello world" (case, punctuation, double space), full-width
    # letters and an ideographic space vs ASCII, and one exact duplicate
    data = ('text,n\n"Hello,  World",1\nhello world,1\nＨＥＬＬＯ\u3000world！,1\n'
            "Straße,2\nstrasse,2\nother,3\nother,3\nunrelated,4\n")
    r = run(tmp_path, data)
    assert r["duplicate_rows"] == 1
    # then: 2 near copies of hello world, 1 of Straße, plus the exact copy
    assert r["near_duplicate_rows"] == 4


def test_no_near_duplicates_when_rows_differ_in_letters(tmp_path):
    r = run(tmp_path, "a,b\nhello,world\nhello,word\nhelloworld,\n")
    assert r["near_duplicate_rows"] == 0


def test_near_conflicts(tmp_path):
    schema = {"fields": [{"name": "text", "type": "string"}, {"name": "label", "type": "string"}],
              "labelField": "label", "labels": ["pos", "neg"]}
    data = ('text,label\n"Great product!",pos\ngreat   product,neg\n'
            "same,pos\nsame,neg\nfine,pos\nFINE.,pos\n")
    lab = run(tmp_path, data, schema)["labels"]
    # "same" conflicts exactly; "Great product!"/"great   product" only after normalisation;
    # fine/FINE. agree
    assert lab["conflicts"] == 1
    assert lab["near_conflicts"] == 2


def test_score_deductions_sum_to_what_the_score_lost(tmp_path):
    # given defects in several components: malformed row, invalid value, empty cells,
    # duplicates, a missing label, a formula cell, undeclared personal data
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"},
                         {"name": "label", "type": "string"}],
              "labelField": "label", "labels": ["pos", "neg"]}
    rows = [f"{i},text {i},{'pos' if i % 3 else 'neg'}" for i in range(200)]
    rows += ["x,bad id,pos", "5,,", "7,=SUM(A1),neg", "8,call 13800138000,pos", "1,text 1,pos", "9,short"]
    r = run(tmp_path, "id,text,label\n" + "\n".join(rows) + "\n", schema)
    ded = r["score_deductions"]
    assert 0 < r["score"] < 100
    assert round(sum(d["points"] for d in ded), 2) == 100 - r["score"]
    codes = {d["code"] for d in ded}
    assert {"malformed_rows", "invalid_values", "empty_cells", "duplicate_rows", "labels_outside_or_missing",
            "formula_injection", "personal_data_not_declared"} <= codes
    for d in ded:
        if d["code"] != "rounding":
            assert d["weight"] == WEIGHTS[d["component"]] and d["reason"] and d["points"] > 0
    # per component the deductions match the breakdown
    for comp, w in WEIGHTS.items():
        lost = sum(d["points"] for d in ded if d["component"] == comp)
        assert lost == pytest.approx(w - r["score_breakdown"][comp], abs=0.011)


def test_clean_file_has_no_deductions(tmp_path):
    r = run(tmp_path, "a,b\n1,x\n2,y\n3,z\n")
    assert r["score"] == 100 and r["score_deductions"] == []


def test_unreadable_file_deduction(tmp_path):
    r = run(tmp_path, b"")
    assert r["score"] == 0
    assert [d["code"] for d in r["score_deductions"]] == ["no_rows"]
    assert r["score_deductions"][0]["points"] == 100


def test_near_duplicates_can_be_switched_off(tmp_path):
    schema = {"fields": [{"name": "text", "type": "string"}, {"name": "label", "type": "string"}],
              "labelField": "label", "labels": ["pos", "neg"]}
    data = 'text,label\n"Hello,  World",pos\nhello world,neg\nHELLO world!,neg\nx,pos\nx,pos\n'
    on = run(tmp_path, data, schema)
    off = run(tmp_path, data, schema, options=QualityOptions(near_duplicates=False))
    assert (on["near_duplicate_rows"], on["labels"]["near_conflicts"]) == (2, 1)
    assert (off["near_duplicate_rows"], off["labels"]["near_conflicts"]) == (None, None)
    assert off["duplicate_rows"] == on["duplicate_rows"] == 1 and off["labels"]["conflicts"] == 0


def test_huge_values_are_cut_in_the_report_and_still_counted_apart(tmp_path):
    # given a low-cardinality column holding 4 MiB cells: two long values sharing their first 300 characters
    import json

    from workers.quality.limits import REPORT_BYTES, VALUE_CHARS
    from workers.quality.report import Report, TopValue

    big = 4 * 1024 * 1024
    a, b = "p" * 300 + "a" * (big - 300), "p" * 300 + "b" * (big - 300)
    data = _csv("id,blob", [(1, a), (2, a), (3, b), (4, "short"), (5, a)])
    r = run(tmp_path, data, {"fields": [{"name": "id", "type": "integer"}, {"name": "blob", "type": "string"}]})
    # then the stored report is small
    assert len(json.dumps(r, ensure_ascii=False).encode()) < REPORT_BYTES
    # and the top values still count the two long values apart, each cut and marked with its full length
    tops = column(r, "blob")["stats"]["top_values"]
    assert [(t["count"], t.get("truncated", False), t.get("length")) for t in tops] == [
        (3, True, big), (1, True, big), (1, False, None)]
    assert tops[0]["value"] == "p" * (VALUE_CHARS - 1) + "…" and len(tops[0]["value"]) == VALUE_CHARS
    assert tops[2] == {"value": "short", "count": 1, "share": 0.2}
    # and the sample cells and the text min/max are cut too, which the report says
    assert all(len(row["blob"]) <= VALUE_CHARS for row in r["sample"])
    assert len(column(r, "blob")["min"]) == VALUE_CHARS and column(r, "blob")["max"] == "short"
    assert r["truncated"]["value_chars"] == VALUE_CHARS and r["truncated"]["sample_cells"] == 4
    assert r["truncated"]["top_values"] == 2
    # and the typed report reads it, round trip exact
    typed = Report.from_dict(r)
    assert typed.to_dict() == r and typed.truncated == r["truncated"]
    blob = next(c for c in typed.columns if c.name == "blob")
    assert blob.top_values[0] == TopValue(value=tops[0]["value"], count=3, share=0.6, truncated=True, length=big)
    assert blob.top_values[2].truncated is False
    # and a report stored before the cap reads as before: no truncation, top values typed
    old = {k: v for k, v in r.items() if k != "truncated"}
    assert Report.from_dict(old).truncated is not None and not Report.from_dict(old).truncated
    assert "truncated" not in Report.from_dict(old).to_dict()


def test_a_report_over_the_size_cap_drops_sample_rows_first(tmp_path, monkeypatch):
    import json

    import workers.quality.limits as limits

    monkeypatch.setattr(limits, "REPORT_BYTES", 3500)  # the report is about 4.3 kB, its sample 1.8 kB
    data = _csv("id,text", [(i, f"row {i} " + "w" * 150) for i in range(40)])
    r = run(tmp_path, data)
    assert len(json.dumps(r, ensure_ascii=False).encode()) <= 3500
    assert r["truncated"]["sample_rows_dropped"] >= 1 and len(r["sample"]) < 10
