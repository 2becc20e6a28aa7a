"""The fingerprint scheme: the distortion bound, what it never touches, and its plan."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workers._fingerprint_helpers import SCHEMA, make_csv, marked_copy, parse_csv
from workers.fingerprint import FingerprintOptions, bound_text, plan_file
from workers.fingerprint.values import flip, key_part, numeric_with, scaled


def test_plan_marks_decimal_columns_only_never_keys_labels_integers_or_exclusions():
    plan = plan_file(io.BytesIO(make_csv(200)), "csv", schema=SCHEMA,
                     options=FingerprintOptions(gamma=20, exclude=("temp",)))
    assert [(c.name, c.kind, c.decimals) for c in plan.columns] == [("price", "decimal", 2)]
    assert plan.key_columns == ("id",) and plan.virtual_key is False
    assert plan.rows == 200


def test_plan_without_primary_key_uses_every_column_as_a_virtual_key():
    plan = plan_file(io.BytesIO(make_csv(50)), "csv", schema={}, options=FingerprintOptions(gamma=20))
    assert plan.virtual_key is True
    assert plan.key_columns == ("id", "price", "temp", "count", "note", "label")
    assert [c.name for c in plan.columns] == ["price", "temp"]


def test_text_columns_are_marked_only_when_the_seller_allows_whitespace_variants():
    options = FingerprintOptions(gamma=20, text_whitespace=True)
    plan = plan_file(io.BytesIO(make_csv(50)), "csv", schema=SCHEMA, options=options)
    assert [(c.name, c.kind) for c in plan.columns] == [("note", "text"), ("price", "decimal"), ("temp", "decimal")]
    assert "trailing space" in bound_text(options)


@pytest.mark.parametrize("gamma", [4, 1001, 20.5])
def test_gamma_outside_the_allowed_range_is_refused(gamma):
    with pytest.raises(ValueError, match="gamma must be an integer from 5 to 1000"):
        FingerprintOptions(gamma=gamma)


def test_bound_text_states_the_bound_and_what_is_never_changed():
    text = bound_text(FingerprintOptions(gamma=25, exclude=("temp",)))
    assert text == ("the last declared decimal of numeric columns changes by one unit in at most 1 row in 25; "
                    "labels, keys, temp and integer columns are never changed")


@pytest.mark.parametrize(("text", "p", "n"), [("1.50", 2, 150), ("-0.07", 2, -7), ("3", 2, 300), ("1.5", 2, 150),
                                              ("12.345", 3, 12345), ("1.2e1", 1, 120), ("x", 2, None), ("", 2, None)])
def test_scaled_reads_the_integer_at_the_declared_precision(text, p, n):
    assert scaled(text, p) == n


def test_flip_changes_only_the_last_digit_within_its_pair():
    for n in range(-300, 300):
        m = flip(n)
        assert abs(m - n) == 1 and m % 2 != n % 2 and abs(m) // 10 == abs(n) // 10


def test_marked_values_keep_their_type_and_written_precision():
    assert numeric_with("1.50", 2, 151) == "1.51"
    assert numeric_with(" 1.5", 2, 151) == " 1.51"
    assert numeric_with(1.5, 2, 151) == 1.51
    assert numeric_with(Decimal("2.00"), 2, 201) == Decimal("2.01")


def test_key_parts_do_not_depend_on_how_the_file_was_saved_or_marked():
    assert key_part("007", None) == key_part(7, None) == key_part(7.0, None) == "7"
    assert key_part("1.50", 2) == key_part(1.51, 2) == key_part("1.5", 2)
    assert key_part(" café ", None) == key_part("cafe\u0301", None)


_cells = st.integers(min_value=-10**7, max_value=10**7)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_cells, _cells, st.integers(0, 9), st.sampled_from(["x", "y z", "w "])),
                     min_size=1, max_size=400),
       gamma=st.integers(5, 60), decimals=st.integers(1, 4), contract=st.text(min_size=1, max_size=12),
       text_marks=st.booleans())
def test_marking_stays_within_the_bound(rows, gamma, decimals, contract, text_marks):
    lines = ["id,a,b,n,t,label"]
    for i, (a, b, n, t) in enumerate(rows):
        lines.append(f"{i},{a / 10**decimals:.{decimals}f},{b / 10:.1f},{n},{t},{'LH'[i % 2]}")
    data = ("\n".join(lines) + "\n").encode()
    schema = {"primaryKey": ["id"], "labelField": "label"}
    options = FingerprintOptions(gamma=gamma, text_whitespace=text_marks)
    plan, marked, result = marked_copy(data, contract, schema=schema, options=options)
    header, before = parse_csv(data)
    header2, after = parse_csv(marked)
    assert header2 == header and len(after) == len(before)
    changed = [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x != y]
    assert len(changed) == result.rows_changed <= len(before) // gamma
    places = {"a": decimals, "b": 1}
    for i in changed:
        for name, x, y in zip(header, before[i], after[i], strict=True):
            if x == y:
                continue
            assert name in ("a", "b") or (name == "t" and text_marks), name
            if name == "t":
                assert x.strip() == y.strip()
            else:
                assert abs(scaled(x, places[name]) - scaled(y, places[name])) == 1
                assert len(y.partition(".")[2]) == places[name]


def test_marking_is_deterministic_per_contract_and_differs_between_contracts():
    data = make_csv(3000)
    _, one, _ = marked_copy(data, "contract-a")
    _, again, _ = marked_copy(data, "contract-a")
    _, other, _ = marked_copy(data, "contract-b")
    assert one == again
    assert one != other


def test_jsonl_rows_that_carry_no_mark_are_copied_byte_for_byte():
    header, rows = parse_csv(make_csv(2000))
    text = "".join(json.dumps(dict(zip(header, r, strict=True)), separators=(",", ":")) + "\n" for r in rows)
    data = text.replace('"price":"', '"price":').replace('","temp":"', ',"temp":').replace('","count"', ',"count"')
    _, marked, result = marked_copy(data.encode(), "contract-a", fmt="jsonl")
    before, after = data.encode().splitlines(), marked.splitlines()
    assert len(after) == len(before)
    assert sum(x != y for x, y in zip(before, after, strict=True)) == result.rows_changed > 0


def test_quality_profile_of_a_marked_copy_differs_only_where_the_bound_allows():
    from workers.quality import profile

    data = make_csv(3000, seed=5)
    plan, marked, result = marked_copy(data, "contract-a")
    before, after = profile(io.BytesIO(data), SCHEMA), profile(io.BytesIO(marked), SCHEMA)
    assert result.rows_changed > 0
    for key in ("rows", "malformed_rows", "duplicate_rows", "header", "score", "grade", "labels", "pii"):
        assert after[key] == before[key], key
    unit = {c.name: 10.0 ** -c.decimals for c in plan.columns}
    for b, a in zip(before["columns"], after["columns"], strict=True):
        assert (a["name"], a["type"], a["null_count"], a["invalid_count"]) == \
            (b["name"], b["type"], b["null_count"], b["invalid_count"])
        if b["name"] not in unit:
            assert a == b, b["name"]  # keys, labels, integers and text: identical profile
            continue
        # A marked column moves by at most one unit in at most 1 row in 20.
        assert abs(a["min"] - b["min"]) <= unit[b["name"]] + 1e-9
        assert abs(a["max"] - b["max"]) <= unit[b["name"]] + 1e-9
        assert abs(a["stats"]["mean"] - b["stats"]["mean"]) <= unit[b["name"]] / 20 + 1e-9


def test_the_vectorised_plan_of_a_delimited_file_equals_the_row_by_row_plan():
    from workers.fingerprint import build_plan, read_rows

    for data in (make_csv(500, seed=8), make_csv(30, seed=9).replace(b"late, again", b"late,\n again")):
        fast = plan_file(io.BytesIO(data), "csv", schema=SCHEMA, options=FingerprintOptions(gamma=20))
        header, rows = read_rows(io.BytesIO(data), "csv")
        slow = build_plan(header, rows, schema=SCHEMA, options=FingerprintOptions(gamma=20))
        assert fast == slow


def test_csv_rows_without_marks_keep_their_original_bytes():
    data = make_csv(2000).replace(b"\n", b"\r\n").replace(b"fine", b'"fine"')
    _, marked, result = marked_copy(data, "contract-a")
    before, after = data.split(b"\r\n"), marked.split(b"\r\n")
    assert len(before) == len(after)
    assert sum(x != y for x, y in zip(before, after, strict=True)) == result.rows_changed > 0


@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=1, max_size=64), row_key=st.text(max_size=40), width=st.integers(1, 512))
def test_fast_keyed_hashes_equal_the_reference_ones(key, row_key, width):
    from workers.fingerprint.keys import (
        row_bits,
        row_bits_function,
        row_digest,
        row_digest_function,
    )

    digest = row_digest(key, row_key)
    assert row_digest_function(key)(row_key) == digest
    assert row_bits_function(key, width)(digest) == row_bits(key, digest) & ((1 << width) - 1)
