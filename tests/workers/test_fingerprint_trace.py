"""trace: the robustness matrix, property tests, and the false-accusation rate."""

from __future__ import annotations

import csv
import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workers._fingerprint_helpers import (
    SCOPE,
    SECRET,
    as_csv,
    as_float_noise_csv,
    as_jsonl,
    as_parquet,
    keys_for,
    make_csv,
    marked_copy,
    parse_csv,
)
from workers.fingerprint import (
    KeyColumnsMissing,
    binomial_tail,
    cells_needed,
    min_rows,
    selection_key,
    sniff_format,
    trace,
)

ROWS = 10_000
CANDIDATES = keys_for(50)
BUYER, OTHER = "contract-7", "contract-31"


@pytest.fixture(scope="module")
def original():
    return make_csv(ROWS, seed=3)


@pytest.fixture(scope="module")
def copies(original):
    plan, a, _ = marked_copy(original, BUYER)
    _, b, _ = marked_copy(original, OTHER)
    return plan, parse_csv(a), parse_csv(b)


def _trace(plan, data: bytes, name: str = "leak.csv"):
    return trace(io.BytesIO(data), sniff_format(data[:65536], name), plan=plan,
                 selection=selection_key(SECRET, SCOPE), candidates=CANDIDATES)


def _kept(rows, fraction, seed=1):
    rnd = random.Random(seed)
    rows = list(rows)
    rnd.shuffle(rows)
    return rows[: max(1, int(len(rows) * fraction))]


def _randomise(header, rows, fraction, seed=2):
    rnd = random.Random(seed)
    at = {header.index("price"): 2, header.index("temp"): 3}
    out = []
    for r in rows:
        r = list(r)
        for i in at:
            if rnd.random() < fraction:
                r[i] = r[i][:-1] + str(rnd.randint(0, 9))
        out.append(r)
    return out


def _drop(header, rows, *names):
    keep = [i for i, h in enumerate(header) if h not in names]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]


LEAKS = {
    "reordered": lambda h, r: as_csv(h, _kept(r, 1.0)),
    "50% kept": lambda h, r: as_csv(h, _kept(r, 0.5)),
    "10% kept": lambda h, r: as_csv(h, _kept(r, 0.1)),
    "unmarked columns dropped": lambda h, r: as_csv(*_drop(h, r, "label", "note", "count")),
    "tsv, every field quoted, CRLF": lambda h, r: as_csv(h, _kept(r, 0.5), "\t", csv.QUOTE_ALL, "\r\n"),
    "csv, non-numeric quoted": lambda h, r: as_csv(h, r, ",", csv.QUOTE_NONNUMERIC),
    "json lines, floats without trailing zeros": lambda h, r: as_jsonl(h, _kept(r, 0.5)),
    "parquet, float64 columns": lambda h, r: as_parquet(h, _kept(r, 0.3)),
    "csv, full-precision float noise": lambda h, r: as_float_noise_csv(h, r),
    "20% of marked cells re-randomised": lambda h, r: as_csv(h, _randomise(h, r, 0.2)),
}


@pytest.mark.parametrize("case", list(LEAKS))
def test_robustness_matrix_names_the_buyer_and_no_one_else(copies, case):
    plan, (header, rows), _ = copies
    leak = LEAKS[case](header, rows)
    name = "leak.parquet" if "parquet" in case else "leak.jsonl" if "json" in case else "leak.txt"
    result = _trace(plan, leak, name)
    assert [s.contract for s in result.named] == [BUYER], case
    assert result.best.p_any_innocent <= 1e-6
    assert result.runner_up.p_any_innocent > 1e-6


def test_the_documented_minimum_of_rows_is_enough(copies):
    plan, (header, rows), _ = copies
    minimum = min_rows(plan, len(CANDIDATES))
    assert 50 < minimum < 2000
    for seed in range(5):
        result = _trace(plan, as_csv(header, _kept(rows, minimum / len(rows), seed=seed)))
        assert [s.contract for s in result.named] == [BUYER], seed


def test_a_file_never_delivered_names_no_one(original, copies):
    plan = copies[0]
    result = _trace(plan, original)
    assert result.named == ()
    assert result.best.cells > 100 and result.best.p_any_innocent > 1e-6


def test_two_copies_merged_half_and_half_name_one_or_both_and_no_third(copies):
    plan, (header, a), (_, b) = copies
    merged = [ra if i % 2 else rb for i, (ra, rb) in enumerate(zip(a, b, strict=True))]
    result = _trace(plan, as_csv(header, _kept(merged, 1.0)))
    named = {s.contract for s in result.named}
    assert named and named <= {BUYER, OTHER}
    assert named == {BUYER, OTHER}  # half of each copy is far past the minimum here


def test_a_leak_without_its_key_column_says_so(copies):
    plan, (header, rows), _ = copies
    with pytest.raises(KeyColumnsMissing, match="lacks the key column"):
        _trace(plan, as_csv(*_drop(header, rows, "id")))


def test_a_leak_with_every_marked_column_dropped_names_no_one_and_says_why(copies):
    plan, (header, rows), _ = copies
    result = _trace(plan, as_csv(*_drop(header, rows, "price", "temp")))
    assert result.named == () and "no marked cell" in result.problem


def test_virtual_key_survives_reorder_deletion_and_other_buyers_marks(original):
    plan, marked, _ = marked_copy(original, BUYER, schema={})
    header, rows = parse_csv(marked)
    assert plan.virtual_key
    result = _trace(plan, as_parquet(header, _kept(rows, 0.3)), "leak.parquet")
    assert [s.contract for s in result.named] == [BUYER]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), keep=st.floats(0.15, 1.0), fmt=st.sampled_from(["csv", "tsv", "jsonl", "parquet"]))
def test_property_reordered_cut_and_resaved_copies_trace_to_their_buyer(copies, seed, keep, fmt):
    plan, (header, rows), _ = copies
    kept = _kept(rows, keep, seed=seed)
    leak = {"csv": lambda: as_csv(header, kept), "tsv": lambda: as_csv(header, kept, "\t"),
            "jsonl": lambda: as_jsonl(header, kept), "parquet": lambda: as_parquet(header, kept)}[fmt]()
    result = _trace(plan, leak, f"leak.{fmt}")
    assert [s.contract for s in result.named] == [BUYER]


def test_false_accusations_over_many_innocent_keys(original, copies):
    """2,000 innocent contracts against a marked copy: none is named, and their p-values
    are calibrated (about 1 % fall at or below 0.01, never far more)."""
    plan, (header, rows), _ = copies
    innocent = keys_for(2000, prefix="innocent")
    result = trace(io.BytesIO(as_csv(header, rows)), "csv", plan=plan, selection=selection_key(SECRET, SCOPE),
                   candidates=innocent)
    assert result.named == ()
    low = sum(s.p_innocent <= 0.01 for s in result.scores)
    assert low <= 45  # Bin(2000, 0.01) has mean 20; P[>= 45] < 1e-6
    assert min(s.p_innocent for s in result.scores) > 1e-6 / 2000


def test_binomial_tail_is_exact_on_small_cases_and_stable_on_large_ones():
    from math import comb
    for n in range(0, 40):
        for m in range(0, n + 2):
            exact = sum(comb(n, k) for k in range(m, n + 1)) / 2**n
            assert binomial_tail(n, m) == pytest.approx(exact, rel=1e-9, abs=1e-300)
    assert binomial_tail(100_000, 50_000) == pytest.approx(0.5, abs=0.01)
    assert 0 < binomial_tail(10_000, 9_000) < 1e-300 or binomial_tail(10_000, 9_000) == 0.0
    assert cells_needed(1000) == 30  # the back-of-the-envelope figure


def test_a_gb18030_file_is_marked_in_gb18030_and_traced(original):
    header, rows = parse_csv(original)
    rows = [r[:4] + ["迟到，再次" if r[4] == "late, again" else "很好"] + r[5:] for r in rows]
    data = as_csv(header, rows).decode().encode("gb18030")
    plan, marked, result = marked_copy(data, BUYER)
    assert result.rows_changed > 0
    text = marked.decode("gb18030")  # still GB18030, the Chinese text intact
    assert "迟到，再次" in text and marked.count(b"\n") == data.count(b"\n")
    with pytest.raises(UnicodeDecodeError):
        marked.decode("utf-8")
    kept = parse_csv(text.encode())[1][: len(rows) // 2]
    assert [s.contract for s in _trace(plan, as_csv(header, kept).decode().encode("gb18030")).named] == [BUYER]
    assert [s.contract for s in _trace(plan, marked).named] == [BUYER]


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "parquet"])
def test_originals_stored_as_tsv_jsonl_or_parquet_are_marked_in_their_format(original, fmt):
    import pyarrow.parquet as pq

    header, rows = parse_csv(original)
    stored = {"tsv": lambda: as_csv(header, rows, "\t"), "jsonl": lambda: as_jsonl(header, rows),
              "parquet": lambda: as_parquet(header, rows)}[fmt]()
    plan, marked, result = marked_copy(stored, BUYER, fmt=fmt)
    assert {c.name for c in plan.columns} == {"price", "temp"}
    assert 0 < result.rows_changed <= len(rows) // 20
    if fmt == "parquet":
        assert pq.ParquetFile(io.BytesIO(marked)).schema_arrow == pq.ParquetFile(io.BytesIO(stored)).schema_arrow
        table = pq.read_table(io.BytesIO(marked))
        leak = as_csv(header, [[str(v) for v in r.values()] for r in table.to_pylist()][::3])
    else:
        leak = marked
    assert [s.contract for s in _trace(plan, leak, f"leak.{'csv' if fmt == 'parquet' else fmt}").named] == [BUYER]
