"""The batch marker and trace reader give exactly what the row-by-row reference gives.

Golden files: the SHA-256 of each marked copy as the row-by-row marker of commit 0595fc2
wrote it (tests/workers/_fingerprint_golden.py); the batch marker and today's row path must
both write those bytes. These tests pin scheme /1 (BLAKE2b), which copies delivered before
scheme /2 still carry; test_fingerprint_fast.py does the same for /2. Kernels: the compiled BLAKE2b against hashlib, the compiled column
scan against the pyarrow one, the Decimal-free number parsing against Decimal.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workers._fingerprint_golden import GOLDEN_SHA256, golden_inputs
from tests.workers._fingerprint_helpers import (
    SCOPE,
    SECRET,
    as_csv,
    as_parquet,
    keys_for,
    parse_csv,
)
from workers.fingerprint import (
    FingerprintOptions,
    batch,
    columnar,
    contract_key,
    mark_file,
    plan_file,
    selection_key,
    trace,
    values,
)
from workers.fingerprint.delimited import csv_stats, csv_stats_batch
from workers.fingerprint.keys import V1
from workers.fingerprint.tables import read_rows

GOLDEN = golden_inputs()


def _mark(data: bytes, fmt: str, schema: dict, contract: str, *, batch_path: bool, scheme: str = V1):
    plan = plan_file(io.BytesIO(data), fmt, schema=schema, options=FingerprintOptions(gamma=20), scheme=scheme)
    out = io.BytesIO()
    result = mark_file(io.BytesIO(data), out, fmt, plan=plan, selection=selection_key(SECRET, SCOPE),
                       contract=contract_key(SECRET, SCOPE, contract), batch=batch_path)
    return plan, out.getvalue(), result


def test_the_compiled_kernels_are_in_use():
    assert batch.AVAILABLE, "numba is in requirements.txt: without it marking falls back to the slow row path"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_batch_and_row_markers_write_the_golden_bytes(name):
    fmt, data, schema = GOLDEN[name]
    _, fast, fast_result = _mark(data, fmt, schema, "contract-3", batch_path=True)
    _, slow, slow_result = _mark(data, fmt, schema, "contract-3", batch_path=False)
    assert hashlib.sha256(fast).hexdigest() == GOLDEN_SHA256[name]
    assert hashlib.sha256(slow).hexdigest() == GOLDEN_SHA256[name]
    assert fast_result == slow_result
    assert fast_result.rows_changed > 0 and fast != data


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=1, max_size=64), size=st.sampled_from([16, 64]),
       messages=st.lists(st.binary(max_size=300), min_size=1, max_size=20))
def test_compiled_blake2b_equals_hashlib(key, size, messages):
    data = b"".join(messages) or b"\0"
    offsets = np.cumsum([0] + [len(m) for m in messages])
    words = batch.Hasher(key, size).words(np.frombuffer(data, dtype=np.uint8), offsets[:-1], offsets[1:])
    for w, m in zip(words, messages, strict=True):
        assert batch.digest_bytes(w) == hashlib.blake2b(m, key=key, digest_size=size).digest()[:16]


def test_selection_by_words_equals_is_selected():
    from workers.fingerprint.keys import is_selected, row_digest, threshold

    key = selection_key(SECRET, SCOPE)
    keys = [str(i).encode() for i in range(5000)]
    offsets = np.cumsum([0] + [len(k) for k in keys])
    words = batch.Hasher(key).words(np.frombuffer(b"".join(keys), dtype=np.uint8), offsets[:-1], offsets[1:])
    for rate in (0.0, 0.02, 0.5, 1.0):
        limit = threshold(rate)
        mask = batch.selected_mask(words, limit)
        assert [bool(x) for x in mask] == [is_selected(row_digest(key, k.decode()), limit) for k in keys]


CELL = st.one_of(st.sampled_from(["", " ", "1", "-2", "+3.5", "0.50", ".5", "5.", ".", "1e3", " 7.25 ", "12.3456",
                                  "x", "007", "中文", "9" * 20]),
                 st.from_regex(r"[+-]?[0-9]{1,4}(\.[0-9]{0,5})?", fullmatch=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(CELL, min_size=1, max_size=5), max_size=40), crlf=st.booleans(),
       delimiter=st.sampled_from([",", "\t"]))
def test_compiled_column_scan_equals_the_pyarrow_scan(rows, crlf, delimiter):
    nl = "\r\n" if crlf else "\n"
    text = delimiter.join(["a", "b", "c"]) + nl + "".join(delimiter.join(r) + nl for r in rows)  # ragged rows too
    fmt = "csv" if delimiter == "," else "tsv"
    f = io.BytesIO(text.encode())
    header, _ = read_rows(f, fmt)
    f.seek(0)
    fast = csv_stats_batch(f, fmt, header)
    f.seek(0)
    slow = csv_stats(f, fmt, header)
    assert fast is not None
    assert fast[1] == slow[1]
    for name in header:  # the decimals of a column that is not numeric are never used
        a, b = fast[0][name], slow[0][name]
        assert (a.values, a.numeric, a.texty) == (b.values, b.numeric, b.texty)
        assert not a.numeric or a.decimals == b.decimals


def _reference_scaled(text: str, p: int) -> int | None:
    try:
        d = Decimal(text.strip())
    except ArithmeticError:
        return None
    return int(d.scaleb(p).to_integral_value()) if d.is_finite() else None


@settings(max_examples=300, deadline=None)
@given(text=st.from_regex(r"\s?[+-]?[0-9]{1,7}(\.[0-9]{0,8})?\s?", fullmatch=True), p=st.integers(1, 6))
def test_plain_number_parsing_equals_decimal(text, p):
    n = values.scaled(text, p)
    assert n == _reference_scaled(text, p)
    body = text.strip()
    if len(body.partition(".")[2]) <= p:
        for m in (n, values.flip(n)):
            d = Decimal(m).scaleb(-p)
            sign = "+" if body.startswith("+") and m >= 0 else ""
            lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
            assert values.numeric_with(text, p, m) == f"{lead}{sign}{d:.{p}f}{trail}"


PIECE = st.sampled_from(["1.25", "3.50", "-0.05", "-0.01", "-0.10", "-0.00", "0.00", "+1.25", "-12.31", "07.25",
                         "12.5", "1.255", "x", "", '"a,b"', '"two\nlines"', '"q""uote"', "7", "007", " 2.5", "\r", "中"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(st.tuples(st.integers(0, 10_000), st.lists(PIECE, min_size=0, max_size=3)), max_size=60),
       crlf=st.booleans())
def test_any_delimited_file_is_marked_the_same_by_both_paths(body, crlf):
    nl = "\r\n" if crlf else "\n"
    text = "id,v,w,t" + nl + "".join(",".join([str(k), *cells]) + nl for k, cells in body)
    data = text.encode()
    schema = {"primaryKey": ["id"]}
    try:
        _, fast, fast_result = _mark(data, "csv", schema, "contract-1", batch_path=True)
    except Exception as exc:  # the row path must fail the same way
        with pytest.raises(type(exc)):
            _mark(data, "csv", schema, "contract-1", batch_path=False)
        return
    _, slow, slow_result = _mark(data, "csv", schema, "contract-1", batch_path=False)
    assert fast == slow and fast_result == slow_result


@pytest.fixture(scope="module")
def leak_sources():
    rnd = random.Random(4)
    fmt, data, schema = GOLDEN["plain.csv"]
    plan, marked, _ = _mark(data, fmt, schema, "contract-7", batch_path=True)
    header, rows = parse_csv(marked)
    rnd.shuffle(rows)
    return plan, {"csv": as_csv(header, rows[:3000]), "tsv": as_csv(header, rows[:3000], delimiter="\t"),
                  "parquet": as_parquet(header, rows[:3000])}


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet"])
def test_batch_trace_reads_and_scores_exactly_as_the_row_reference(leak_sources, fmt, monkeypatch):
    plan, leaks = leak_sources
    candidates = keys_for(20)
    candidates["contract-7"] = contract_key(SECRET, SCOPE, "contract-7")
    sel = selection_key(SECRET, SCOPE)
    fast = trace(io.BytesIO(leaks[fmt]), fmt, plan=plan, selection=sel, candidates=candidates)
    monkeypatch.setattr(columnar, "selected_in_batches", lambda *a, **k: None)
    monkeypatch.setattr(batch, "AVAILABLE", False)  # scoring row by row with hashlib too
    slow = trace(io.BytesIO(leaks[fmt]), fmt, plan=plan, selection=sel, candidates=candidates)
    assert fast == slow
    assert [s.contract for s in fast.named] == ["contract-7"]
    assert fast.rows_read == 3000


def test_a_key_column_missing_from_a_leak_is_still_refused_by_the_batch_reader(leak_sources):
    from workers.fingerprint import KeyColumnsMissing

    plan, _ = leak_sources
    text = "station,kwh\nST-01,1.25\n"
    with pytest.raises(KeyColumnsMissing):
        trace(io.BytesIO(text.encode()), "csv", plan=plan, selection=selection_key(SECRET, SCOPE),
              candidates=keys_for(2))


def test_rows_with_odd_quoting_go_through_the_csv_module():
    data = b'id,kwh\n1,1.25\n"2",2.50\n3,"3.75"\n' + b"".join(b"%d,%d.25\n" % (i, i) for i in range(4, 400))
    _, fast, _ = _mark(data, "csv", {"primaryKey": ["id"]}, "c", batch_path=True)
    _, slow, _ = _mark(data, "csv", {"primaryKey": ["id"]}, "c", batch_path=False)
    assert fast == slow
    assert list(csv.reader(io.StringIO(fast.decode())))[:1] == [["id", "kwh"]]
