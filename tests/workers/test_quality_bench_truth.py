"""The profiler's counts equal bench.quality_gen's ground truth, figure by figure.

The benchmark (bench/quality_bench.py) requires every count exact; this runs the same
comparison on small generated files so a drift between the detectors and the generator
(personal-data rules, null/invalid counting, duplicates, labels) fails the suite.
"""

from __future__ import annotations

import re

import pytest

from bench.quality_bench import MOBILE as PEER_MOBILE_RE
from bench.quality_gen import SCHEMA, generate
from tests.workers._pii_corpus import decoys, positives
from workers.quality import profile
from workers.quality.pii import classify

PII_KINDS = ("mobile", "email", "resident_id", "bank_card")


def _figures(r: dict) -> dict:
    cols = {c["name"]: c for c in r["columns"]}
    lab = r["labels"]
    return {
        "rows": r["rows"], "malformed_rows": r["malformed_rows"], "duplicate_rows": r["duplicate_rows"],
        "near_duplicate_rows": r["near_duplicate_rows"], "primary_key_duplicates": r["primary_key_duplicates"],
        "nulls": {n: c["null_count"] for n, c in cols.items()},
        "invalid": {n: c["invalid_count"] for n, c in cols.items()},
        **{k: r["pii"][k] for k in PII_KINDS}, "pii_by_column": r["pii"]["by_column"],
        "formula_injection": r["formula_injection"], "formula_by_column": r["formula_injection_by_column"],
        "label_missing": lab["missing"], "label_outside": lab["outside_set"], "distribution": lab["distribution"],
        "conflicts": lab["conflicts"], "near_conflicts": lab["near_conflicts"],
        "blank_lines": r["blank_lines"], "control_cells": r["control_characters"]["cells"],
    }


def _expected(truth: dict) -> dict:
    keys = ["rows", "malformed_rows", "duplicate_rows", "primary_key_duplicates", "nulls", "invalid", *PII_KINDS,
            "pii_by_column", "formula_injection", "formula_by_column", "label_missing", "label_outside",
            "distribution", "conflicts"]
    out = {k: truth[k] for k in keys}
    # rows differ in their id, and the texts normalise apart: near figures equal the exact ones
    out["near_duplicate_rows"] = truth["duplicate_rows"]
    out["near_conflicts"] = truth["conflicts"]
    out["blank_lines"] = 0
    out["control_cells"] = 0
    return out


@pytest.mark.parametrize("seed", [7, 2026])
def test_profiler_counts_equal_generator_ground_truth(tmp_path, seed):
    # given a small generated file holding every kind of item and of near-miss
    path = tmp_path / "quality.csv"
    truth = generate(path, 2_500_000, seed=seed)
    assert all(truth[k] > 0 for k in PII_KINDS), truth
    assert all(n > 0 for n in truth["near_misses"].values()), truth["near_misses"]
    assert truth["malformed_rows"] and truth["duplicate_rows"] and truth["conflicts"] and truth["formula_injection"]
    # when
    r = profile(path, SCHEMA)
    # then every counted figure is exact
    assert _figures(r) == _expected(truth)
    assert r["header"] == [f["name"] for f in SCHEMA["fields"]]
    assert r["bytes"] == truth["bytes"]


def test_peer_mobile_regex_follows_the_detector():
    # the benchmark's peers (duckdb, polars, pandas) recount mobiles with one regex: on the
    # labelled corpora it must agree with the profiler's rule cell by cell
    cells = [c for c, _kind in positives()] + decoys()
    peer = [bool(re.search(PEER_MOBILE_RE, c)) for c in cells]
    ours = ["mobile" in classify(c) for c in cells]
    assert sum(ours) >= 70
    assert [c for c, p, o in zip(cells, peer, ours, strict=True) if p != o] == []
