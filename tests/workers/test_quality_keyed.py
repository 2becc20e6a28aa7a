"""Duplicates counted through the primary key (keyedrows.py) give the general path's counts:
same data profiled with keyed_duplicates on and off, on data where they could differ."""

from __future__ import annotations

import random

import pytest

from tests.workers._quality_helpers import run
from workers.quality import QualityOptions

FIELDS = ["id", "name", "city", "text", "label"]


def _schema(pk, types=None):
    types = types or {}
    return {"fields": [{"name": f, "type": types.get(f, "string")} for f in FIELDS],
            "primaryKey": pk, "labelField": "label", "labels": ["pos", "neg"], "inputFields": ["text"]}


def _rows(seed: int, n: int = 3000) -> str:
    """Rows whose keys repeat, with exact copies, copies that differ only in case, spaces and
    punctuation (near-duplicates), copies that differ in a letter (neither), separators and
    backslashes inside values, and empty keys."""
    rng = random.Random(seed)
    words = ["Hello, World", "hello  world", "HELLO WORLD!", "数据，质量", "数据质量", "a\\b", "a\x1fb", "aub",
             "Straße", "strasse", "x", "y", ""]
    out = [",".join(FIELDS)]
    for _ in range(n):
        key = str(rng.randrange(n // 3)) if rng.random() < 0.8 else ""
        vals = [key, rng.choice(words), rng.choice(["北京", "Wuhan", "wuhan", "Xi'an"]), rng.choice(words),
                rng.choice(["pos", "neg", ""])]
        out.append(",".join('"' + v.replace('"', '""') + '"' for v in vals))
        if rng.random() < 0.2:
            out.append(out[-1])  # an exact duplicate
    return "\n".join(out) + "\n"


def _counts(r: dict) -> tuple:
    lab = r["labels"] or {}
    return (r["rows"], r["duplicate_rows"], r["near_duplicate_rows"], r.get("primary_key_duplicates"),
            lab.get("conflicts"), lab.get("near_conflicts"),
            [(c["name"], c["distinct_count"], c["null_count"]) for c in r["columns"]])


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("pk,types", [
    ("id", {"id": "integer"}),                       # the keyed path
    (["id", "city"], {"id": "integer"}),             # composite key with a text column: general path
    (["id", "label"], {"id": "integer", "label": "integer"}),  # composite, no text column: keyed
    ("id", {}),                                      # a text key (normalised): general path
    (None, {"id": "integer"}),                       # no key
])
def test_keyed_counts_equal_the_general_path(tmp_path, seed, pk, types):
    data = _rows(seed)
    schema = _schema(pk, types)
    if pk is None:
        del schema["primaryKey"]
    fast = run(tmp_path, data, schema)
    slow = run(tmp_path, data, schema, options=QualityOptions(keyed_duplicates=False))
    assert _counts(fast) == _counts(slow)
    # the data does hold what the paths could disagree on
    assert fast["duplicate_rows"] > 0 and fast["near_duplicate_rows"] > fast["duplicate_rows"]


def test_keyed_counts_equal_the_general_path_when_stores_spill(tmp_path):
    # given a small memory limit, so the key store and the candidates' stores spill to disk
    data = _rows(3, n=60_000)
    schema = _schema("id", {"id": "integer"})
    opts = dict(memory_limit_bytes=32 * 2**20, spill_dir=str(tmp_path))
    fast = run(tmp_path, data, schema, options=QualityOptions(**opts))
    slow = run(tmp_path, data, schema, options=QualityOptions(keyed_duplicates=False, **opts))
    assert _counts(fast) == _counts(slow)
    assert fast["primary_key_duplicates"] > 0
    # and no spill file is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_keyed_path_single_column_file(tmp_path):
    data = "id\n1\n2\n2\n3\n3\n3\n"
    schema = {"fields": [{"name": "id", "type": "integer"}], "primaryKey": "id"}
    fast = run(tmp_path, data, schema)
    slow = run(tmp_path, data, schema, options=QualityOptions(keyed_duplicates=False))
    assert (fast["duplicate_rows"], fast["near_duplicate_rows"], fast["primary_key_duplicates"]) == (3, 3, 3)
    assert _counts(fast) == _counts(slow)
