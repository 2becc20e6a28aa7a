"""Scheme /2: SipHash-2-4 written from the paper, and the copy-through marker (fastmark.py)
writing exactly what the block marker (delimited.py) and the row-by-row reference write.

Golden files: GOLDEN_SHA256_V2 holds the SHA-256 of each marked copy under scheme /2 as the
row-by-row reference writes it; all three paths must write those bytes.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workers._fingerprint_golden import GOLDEN_SHA256_V2, golden_inputs
from tests.workers._fingerprint_helpers import SCOPE, SECRET, keys_for, make_csv
from workers.fingerprint import (
    FingerprintOptions,
    Plan,
    contract_key,
    fastmark,
    mark_file,
    plan_file,
    selection_key,
    siphash,
    trace,
)
from workers.fingerprint.keys import (
    V1,
    V2,
    bits_function,
    digest_function,
    row_bits_v2,
    row_digest_v2,
)

GOLDEN = golden_inputs()
KEY = bytes(range(16))


def test_siphash_matches_the_papers_test_vectors():
    # Aumasson & Bernstein, SipHash: a fast short-input PRF, appendix A, and the reference vectors
    assert siphash.sip64(KEY, bytes(range(15))) == 0xA129CA6149BE45E5
    assert siphash.sip64(KEY, b"").to_bytes(8, "little").hex() == "310e0edd47db6f72"
    assert siphash.sip128(KEY, b"").hex() == "a3817f04ba25a8e66df67214c7550293"


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), messages=st.lists(st.binary(max_size=40), min_size=1, max_size=20))
def test_compiled_siphash_equals_the_python_reference(key, messages):
    data = np.frombuffer(b"".join(messages) or b"\0", dtype=np.uint8)
    offsets = np.cumsum([0] + [len(m) for m in messages])
    wide = siphash.words128(key, data, offsets[:-1], offsets[1:])
    narrow = siphash.words64(key, data, offsets[:-1], offsets[1:])
    for i, m in enumerate(messages):
        assert wide[i].astype("<u8").tobytes() == siphash.sip128(key, m)
        assert int(narrow[i]) == siphash.sip64(key, m)


@settings(max_examples=40, deadline=None)
@given(sel=st.binary(min_size=1, max_size=64), row_key=st.text(max_size=30), width=st.integers(1, 512))
def test_scheme_two_functions_equal_their_reference(sel, row_key, width):
    digest = row_digest_v2(sel, row_key)
    assert digest_function(V2, sel)(row_key) == digest
    assert bits_function(V2, sel, width)(digest) == row_bits_v2(sel, digest) & ((1 << width) - 1)
    assert siphash.low_bits(sel, [digest])[0] == row_bits_v2(sel, digest, 64)


def _mark(data: bytes, fmt: str, schema: dict, contract: str, path: str, monkeypatch=None, scheme: str = V2):
    """Mark with one path: "fast" (the default), "block" (delimited.py), "row" (the reference)."""
    plan = plan_file(io.BytesIO(data), fmt, schema=schema, options=FingerprintOptions(gamma=20), scheme=scheme)
    out = io.BytesIO()
    with pytest.MonkeyPatch.context() as mp:
        if path == "block":
            mp.setattr(fastmark, "mark_fast", lambda *a, **k: None)
        result = mark_file(io.BytesIO(data), out, fmt, plan=plan, selection=selection_key(SECRET, SCOPE),
                           contract=contract_key(SECRET, SCOPE, contract), batch=path != "row")
    return plan, out.getvalue(), result


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_path_writes_the_scheme_two_golden_bytes(name):
    fmt, data, schema = GOLDEN[name]
    outs = {path: _mark(data, fmt, schema, "contract-3", path) for path in ("fast", "block", "row")}
    for path, (plan, out, _) in outs.items():
        assert plan.scheme == V2
        assert hashlib.sha256(out).hexdigest() == GOLDEN_SHA256_V2[name], path
    assert outs["fast"][2] == outs["block"][2] == outs["row"][2]
    assert outs["fast"][2].rows_changed > 0


def test_the_copy_through_kernel_marks_plain_files_itself():
    fmt, data, schema = GOLDEN["plain.csv"]
    plan = plan_file(io.BytesIO(data), fmt, schema=schema, options=FingerprintOptions(gamma=20))
    from workers.fingerprint.mark import Marker

    marker = Marker(plan, selection_key(SECRET, SCOPE), contract_key(SECRET, SCOPE, "c"))
    assert fastmark.mark_fast(io.BytesIO(data), io.BytesIO(), fmt, marker, selection_key(SECRET, SCOPE)) == 6000
    assert marker.changed > 0


KEYS = st.one_of(st.integers(0, 10_000).map(str),
                 st.sampled_from(["007", "+7", "7.0", " 8", "9 ", "a b", "ST-01", "x", "1e5", "中", "1-2", "", '"q"',
                                  '"5"', "k\tv", "-0", ".5"]))
PIECE = st.sampled_from(["1.25", "3.50", "-0.05", "-0.01", "-0.10", "-0.00", "0.00", "+1.25", "-12.31", "07.25",
                         "12.5", "1.255", "x", "", '"a,b"', '"two\nlines"', '"q""uote"', "7", "007", " 2.5", "\r",
                         "中", "9.99", "-3.75", '"1.25"'])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(st.tuples(KEYS, st.lists(PIECE, min_size=0, max_size=3)), max_size=80),
       crlf=st.booleans(), tsv=st.booleans(), bom=st.booleans(), final_newline=st.booleans(), key_at=st.integers(0, 3))
def test_any_delimited_file_is_marked_the_same_by_all_three_paths(body, crlf, tsv, bom, final_newline, key_at):
    nl, sep = ("\r\n" if crlf else "\n"), ("\t" if tsv else ",")
    header = ["v", "w", "t"]
    header.insert(key_at, "id")  # the key anywhere; a row with fewer cells before it is a short row

    def row(k, cells):
        return sep.join(cells[:key_at] + [k] + cells[key_at:]) if len(cells) >= key_at else sep.join(cells + [k])
    text = sep.join(header) + nl + nl.join(row(k, cells) for k, cells in body)
    data = (b"\xef\xbb\xbf" if bom else b"") + (text + (nl if final_newline else "")).encode()
    fmt = "tsv" if tsv else "csv"
    results = {}
    for path in ("fast", "block", "row"):
        try:
            results[path] = _mark(data, fmt, {"primaryKey": ["id"]}, "contract-1", path)[1:]
        except Exception as exc:  # noqa: BLE001 - every path must fail the same way
            results[path] = type(exc)
    assert results["fast"] == results["block"] == results["row"]


def test_a_large_file_marked_by_blocks_equals_the_row_reference():
    data = make_csv(60_000, seed=3)
    fast = _mark(data, "csv", {"primaryKey": ["id"], "labelField": "label"}, "c-9", "fast")
    row = _mark(data, "csv", {"primaryKey": ["id"], "labelField": "label"}, "c-9", "row")
    assert fast[1:] == row[1:] and fast[2].rows_changed > 1000


def test_copies_delivered_under_scheme_one_still_trace_to_their_buyer():
    fmt, data, schema = GOLDEN["plain.csv"]
    plan, marked, _ = _mark(data, fmt, schema, "contract-5", "fast", scheme=V1)
    stored = Plan.from_json(plan.to_json())  # as the delivery recorded it
    assert stored.scheme == V1
    candidates = keys_for(30)
    result = trace(io.BytesIO(marked), fmt, plan=stored, selection=selection_key(SECRET, SCOPE),
                   candidates=candidates)
    assert [s.contract for s in result.named] == ["contract-5"]
    as_v2 = Plan.from_json({**plan.to_json(), "scheme": V2})  # the wrong scheme finds no one
    wrong = trace(io.BytesIO(marked), fmt, plan=as_v2, selection=selection_key(SECRET, SCOPE), candidates=candidates)
    assert wrong.named == ()


def test_an_unknown_scheme_is_refused():
    fmt, data, schema = GOLDEN["plain.csv"]
    with pytest.raises(ValueError, match="unknown fingerprint scheme"):
        plan_file(io.BytesIO(data), fmt, schema=schema, options=FingerprintOptions(gamma=20), scheme="x/9")


NUMBER = st.one_of(st.from_regex(r"-?[0-9]{1,3}\.[0-9]{2}", fullmatch=True),
                   st.sampled_from(["-0.01", "-0.00", "0.00", "-0.10", "1.5", "", '"2.25"', "+3.10", "07.25"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(st.tuples(KEYS, NUMBER, NUMBER), min_size=100, max_size=400), crlf=st.booleans(),
       contract=st.sampled_from(["c-1", "c-2", "c-3"]))
def test_numeric_files_with_odd_cells_are_marked_the_same_by_all_three_paths(body, crlf, contract):
    nl = "\r\n" if crlf else "\n"
    data = ("id,a,b" + nl + "".join(f"{k},{a},{b}{nl}" for k, a, b in body)).encode()
    outs = [_mark(data, "csv", {"primaryKey": ["id"]}, contract, path)[1:] for path in ("fast", "block", "row")]
    assert outs[0] == outs[1] == outs[2]


def test_the_numeric_property_files_do_carry_marks():
    """The property test above compares files that are really marked (not only copied)."""
    rows = [(str(i), f"{i % 997}.{i % 100:02d}", "-0.01" if i % 7 == 0 else f"{i % 13}.50") for i in range(400)]
    data = ("id,a,b\n" + "".join(f"{k},{a},{b}\n" for k, a, b in rows)).encode()
    fast, row = (_mark(data, "csv", {"primaryKey": ["id"]}, "c-1", path) for path in ("fast", "row"))
    assert fast[1:] == row[1:] and fast[2].rows_changed > 0


@pytest.mark.parametrize("scheme", [V1, V2])
def test_a_one_column_table_whose_virtual_key_is_its_marked_column_is_marked_as_the_reference(scheme):
    # its key is the digits above the marked one ("~50" for 5 at 2 decimals), not the cell's text:
    # the batch paths used to hash "5" as it is written
    data = ("kwh\n" + "".join(f"{i}\n" if i % 3 == 0 else f"{i}.25\n" for i in range(3000))).encode()
    outs = [_mark(data, "csv", {}, "c-1", path, scheme=scheme)[1:] for path in ("fast", "block", "row")]
    assert outs[0] == outs[1] == outs[2] and outs[2][1].rows_changed > 0
