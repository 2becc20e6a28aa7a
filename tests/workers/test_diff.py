"""The label-aware version diff (workers/diff): exact counts against a naive in-memory diff,
spill buckets, content mode (no key), schema and column changes, and the typed round trip."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.diff import (
    ColumnFigures,
    Field,
    Table,
    VersionDiff,
    buckets_for,
    diff_columns,
    diff_fields,
    diff_rows,
)


def table(columns, rows, batched=False):
    """A table streaming ``rows``; ``batched`` also offers them as pyarrow batches of 7 rows (the batch path)."""
    def batches():
        for i in range(0, len(rows), 7):
            chunk = [tuple(r) + (None,) * (len(columns) - len(r)) for r in rows[i:i + 7]]
            yield [pa.array([r[c] for r in chunk], pa.string()) for c in range(len(columns))]

    return Table(columns=tuple(columns), rows=lambda: iter(rows), batches=batches if batched else None)


def naive_key_diff(old, new, key_ix, label_ix):
    first_old, first_new = {}, {}
    for r in old:
        first_old.setdefault(tuple(r[i] for i in key_ix), r)
    for r in new:
        first_new.setdefault(tuple(r[i] for i in key_ix), r)
    both = first_old.keys() & first_new.keys()
    changed = sum(1 for k in both if first_old[k] != first_new[k])
    relabelled = sum(1 for k in both if first_old[k][label_ix] != first_new[k][label_ix])
    return {"added": len(first_new.keys() - first_old.keys()), "removed": len(first_old.keys() - first_new.keys()),
            "changed": changed, "unchanged": len(both) - changed, "relabelled": relabelled,
            "dup_old": len(old) - len(first_old), "dup_new": len(new) - len(first_new)}


rows_strategy = st.lists(st.tuples(st.integers(0, 30).map(str), st.sampled_from(["cat", "dog", None]),
                                   st.sampled_from(["x", "y", None])), max_size=60)


@pytest.mark.parametrize("batched", [False, True], ids=["rows", "batches"])
@settings(max_examples=60, deadline=None)
@given(old=rows_strategy, new=rows_strategy, buckets=st.integers(1, 7))
def test_key_mode_counts_match_a_naive_diff(tmp_path_factory, batched, old, new, buckets):
    # given two versions with a primary key "id" and a label
    cols = ("id", "label", "note")
    # when they are compared in any number of spill buckets, row by row or in batches
    d = diff_rows(table(cols, old, batched), table(cols, new, batched), key=["id"], label="label", buckets=buckets,
                  workdir=str(tmp_path_factory.mktemp("diff")))
    # then every count is the naive one
    want = naive_key_diff(old, new, [0], 1)
    assert (d.added, d.removed, d.changed, d.unchanged, d.relabelled, d.duplicate_keys_old, d.duplicate_keys_new) == (
        want["added"], want["removed"], want["changed"], want["unchanged"], want["relabelled"], want["dup_old"],
        want["dup_new"])
    assert d.mode == "key" and d.old_rows == len(old) and d.new_rows == len(new)


@pytest.mark.parametrize("batched", [False, True], ids=["rows", "batches"])
@settings(max_examples=60, deadline=None)
@given(old=rows_strategy, new=rows_strategy, buckets=st.integers(1, 5))
def test_content_mode_is_a_multiset_diff(tmp_path_factory, batched, old, new, buckets):
    cols = ("id", "label", "note")
    d = diff_rows(table(cols, old, batched), table(cols, new, batched), label="label", buckets=buckets,
                  workdir=str(tmp_path_factory.mktemp("diff")))
    assert d.mode == "content"
    # rows present in both (all values equal, label included) are unchanged
    assert d.unchanged == sum((Counter(old) & Counter(new)).values())
    # every row is accounted for exactly once on each side
    assert d.unchanged + d.changed + d.removed == len(old)
    assert d.unchanged + d.changed + d.added == len(new)
    assert d.relabelled == d.changed


@pytest.mark.parametrize("batched", [False, True], ids=["rows", "batches"])
def test_relabelled_rows_examples_and_label_shift(batched):
    cols = ("id", "text", "label")
    old = [("1", "good film", "pos"), ("2", "bad film", "neg"), ("3", "fine", "pos"), ("4", "meh", "neg")]
    new = [("1", "good film", "pos"), ("2", "bad film", "pos"), ("3", "fine!", "pos"), ("5", "new", "neg")]
    d = diff_rows(table(cols, old, batched), table(cols, new, batched), key=["id"], label="label", buckets=3)
    assert (d.added, d.removed, d.changed, d.unchanged, d.relabelled) == (1, 1, 2, 1, 1)
    assert d.relabel_rate == round(1 / 3, 6)
    assert [(e.key, e.old_label, e.new_label) for e in d.examples["relabelled"]] == [("2", "neg", "pos")]
    assert [e.key for e in d.examples["added"]] == ["5"] and [e.key for e in d.examples["removed"]] == ["4"]
    shift = {s.label: (s.old_count, s.new_count, s.shift_pp) for s in d.label_shift}
    assert shift == {"neg": (2, 1, -25.0), "pos": (2, 3, 25.0)}


@pytest.mark.parametrize("batched", [False, True], ids=["rows", "batches"])
def test_relabelling_is_found_without_a_key(batched):
    cols = ("text", "label")
    old = [("a", "x"), ("b", "x"), ("b", "x"), ("c", "y")]
    new = [("a", "y"), ("b", "x"), ("b", "x"), ("d", "y")]
    d = diff_rows(table(cols, old, batched), table(cols, new, batched), label="label")
    assert (d.unchanged, d.relabelled, d.added, d.removed) == (2, 1, 1, 1)
    assert "no primary key" in d.note


def test_a_key_missing_from_one_version_falls_back_to_content_with_a_note():
    d = diff_rows(table(("id", "v"), [("1", "a")]), table(("uid", "v"), [("1", "a")]), key=["id"])
    assert d.mode == "content" and "'id' is not in both versions" in d.note
    assert d.compared_fields == ("v",) and d.unchanged == 1


def test_columns_in_another_order_and_added_columns_do_not_count_as_changes():
    old = table(("id", "a", "b"), [("1", "x", "y"), ("2", "p", "q")])
    new = table(("b", "id", "a", "c"), [("y", "1", "x", "new"), ("Q", "2", "p", "new")])
    d = diff_rows(old, new, key=["id"])
    assert d.compared_fields == ("id", "a", "b")
    assert (d.unchanged, d.changed) == (1, 1)


def test_short_rows_are_padded_with_nulls_and_nulls_differ_from_empty_text():
    d = diff_rows(table(("id", "v"), [("1",), ("2", "")]), table(("id", "v"), [("1", None), ("2", None)]), key=["id"])
    assert (d.unchanged, d.changed) == (1, 1)


def test_many_distinct_values_are_not_label_shares(monkeypatch):
    import workers.diff.rows as rows

    monkeypatch.setattr(rows, "MAX_LABELS", 3)
    rs = [(str(i), f"l{i}") for i in range(10)]
    d = diff_rows(table(("id", "label"), rs), table(("id", "label"), rs), key=["id"], label="label")
    assert d.label_shift == () and d.unchanged == 10


def test_spill_files_are_removed(tmp_path):
    rs = [(str(i), "a") for i in range(100)]
    diff_rows(table(("id", "l"), rs), table(("id", "l"), rs[50:]), key=["id"], buckets=8, workdir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_bucket_count_follows_input_size():
    assert buckets_for(0) == 1
    assert buckets_for(1024**3) == 22  # 1 GiB in 48 MiB buckets
    assert buckets_for(10**15) == 1024


def test_schema_and_column_changes_and_the_typed_round_trip():
    fields = diff_fields([Field("id", "integer"), Field("score", "integer"), Field("old", "string")],
                         [Field("id", "integer"), Field("score", "number"), Field("extra", "date")])
    assert [(f.name, f.change, f.old_type, f.new_type) for f in fields] == [
        ("score", "retyped", "integer", "number"), ("extra", "added", None, "date"), ("old", "removed", "string", None)]
    cols = diff_columns([ColumnFigures("a", 5, 2), ColumnFigures("b", 0, 0)],
                        [ColumnFigures("a", 0, 0), ColumnFigures("b", 0, 0), ColumnFigures("c", 9, 9)])
    assert [(c.name, c.old_nulls, c.new_nulls, c.old_invalid, c.new_invalid) for c in cols] == [("a", 5, 0, 2, 0)]
    rows = diff_rows(table(("id", "l"), [("1", "a"), ("2", "b")]), table(("id", "l"), [("1", "b")]), key=["id"],
                     label="l")
    vd = VersionDiff(rows=rows, fields=fields, columns=cols, old_duplicate_rows=3, new_duplicate_rows=0)
    d = vd.to_dict()
    assert d["schema_version"] == 1 and d["rows"]["relabel_rate"] == 1.0
    assert {s["label"]: s["shift_pp"] for s in d["rows"]["label_shift"]} == {"a": -50.0, "b": 50.0}
    assert VersionDiff.from_dict(d) == vd and vd.schema_changed


@pytest.mark.parametrize("batched", [False, True], ids=["rows", "batches"])
def test_values_holding_the_separator_or_null_keys_stay_exact(batched):
    cols = ("id", "a", "b")
    old = [("1", "x\x1fy", "z"), ("2", None, "q"), (None, "k", "k"), ("3", "\x02f", "")]
    new = [("1", "x", "y\x1fz"), ("2", "", "q"), (None, "k", "k"), ("3", "\x1f", "")]
    d = diff_rows(table(cols, old, batched), table(cols, new, batched), key=["id"], buckets=2)
    assert (d.changed, d.unchanged) == (3, 1)
    assert sorted(e.key for e in d.examples["changed"]) == ["1", "2", "3"]


def _sources_diff(tmp_path, old_text, new_text, **kw):
    from workers.diff.sources import ReadAs, table_from_file

    (tmp_path / "v1.csv").write_text(old_text, encoding="utf-8")
    (tmp_path / "v2.csv").write_text(new_text, encoding="utf-8")
    how = ReadAs(format="csv", columns=("id", "text", "label"), missing_values=("", "NA"))
    return [diff_rows(table_from_file(tmp_path / "v1.csv", how), table_from_file(tmp_path / "v2.csv", how),
                      key=["id"], label="label", buckets=b, workdir=str(tmp_path)) for b in (1, 3)]


def test_csv_files_read_in_batches_agree_with_the_row_reader(tmp_path):
    # given two CSV versions with quoted newlines, a BOM, missing values, whitespace-only cells and a blank line
    old = '\ufeffid,text,label\n1,"two\nlines",pos\n2,NA,neg\n3,  ,neg\n\n4,same,pos\n'
    new = 'id,text,label\n1,"two\nlines",neg\n2,,neg\n3,x,neg\n5,new,pos\n'
    for d in _sources_diff(tmp_path, old, new):
        # then NA and whitespace are null like empty text, the quoted newline is one value, and the blank line no row
        assert (d.old_rows, d.new_rows) == (4, 4)
        assert (d.added, d.removed, d.changed, d.unchanged, d.relabelled) == (1, 1, 2, 1, 1)
        assert [e.key for e in d.examples["relabelled"]] == ["1"]
    # and the pyarrow batches give exactly what the row reader gives
    from workers.diff.sources import ReadAs, table_from_file

    how = ReadAs(format="csv", columns=("id", "text", "label"), missing_values=("", "NA"))
    t = table_from_file(tmp_path / "v1.csv", how)
    from_batches = [tuple(c[i].as_py() for c in b) for b in t.batches() for i in range(len(b[0]))]
    assert from_batches == [tuple(r) for r in t.rows()]


def test_metadata_lines_and_a_missing_header_are_read_as_the_quality_check_found_them(tmp_path):
    from workers.diff.sources import ReadAs, table_from_file

    # given v1 with an export banner before its header and v2 with no header at all
    (tmp_path / "v1.csv").write_text("exported by ACME 2026-01-01\nid,text,label\n1,a,pos\n2,b,neg\n", encoding="utf-8")
    (tmp_path / "v2.csv").write_text("1,a,pos\n2,b,pos\n3,c,neg\n", encoding="utf-8")
    cols = ("id", "text", "label")
    old = table_from_file(tmp_path / "v1.csv", ReadAs(format="csv", columns=cols, skip_rows=2))
    new = table_from_file(tmp_path / "v2.csv", ReadAs(format="csv", columns=cols, header=False, skip_rows=0))
    # then both readers see only the data rows
    assert [list(r) for r in old.rows()] == [["1", "a", "pos"], ["2", "b", "neg"]]
    assert [list(r) for r in new.rows()] == [["1", "a", "pos"], ["2", "b", "pos"], ["3", "c", "neg"]]
    assert [c.to_pylist() for b in old.batches() for c in b] == [["1", "2"], ["a", "b"], ["pos", "neg"]]
    assert [c.to_pylist() for b in new.batches() for c in b][0] == ["1", "2", "3"]
    d = diff_rows(old, new, key=["id"], label="label", buckets=1, workdir=str(tmp_path))
    assert (d.old_rows, d.new_rows, d.added, d.removed, d.changed, d.relabelled) == (2, 3, 1, 0, 1, 1)


def test_a_csv_pyarrow_cannot_read_as_batches_falls_back_to_the_row_reader(tmp_path):
    # a short row (padded with nulls by the row reader) and a long one (cut): pyarrow refuses, rows are read instead
    old = "id,text,label\n1,a,pos\n2,b\n3,c,neg,extra\n"
    new = "id,text,label\n1,a,pos\n2,b,\n3,c,neg\n"
    for d in _sources_diff(tmp_path, old, new):
        assert (d.old_rows, d.unchanged, d.changed) == (3, 3, 0)


cells = st.one_of(st.text(alphabet=list('ab,"\n\r xé\t'), max_size=4), st.just("NA"))
csv_rows = st.lists(st.tuples(st.integers(0, 12).map(str), cells, st.sampled_from(["pos", "neg", "", "NA"])),
                    max_size=25)


@settings(max_examples=40, deadline=None)
@given(old=csv_rows, new=csv_rows, buckets=st.integers(1, 4))
def test_csv_batch_and_row_readers_give_the_same_diff(tmp_path_factory, old, new, buckets):
    # given two CSV files with quotes, delimiters, CR/LF inside values, spaces and missing values
    import csv as csvmod

    from workers.diff.sources import ReadAs, table_from_file

    d = tmp_path_factory.mktemp("csvdiff")
    for name, rs in (("v1.csv", old), ("v2.csv", new)):
        with open(d / name, "w", newline="", encoding="utf-8") as f:
            w = csvmod.writer(f)
            w.writerow(["id", "text", "label"])
            w.writerows(rs)
    how = ReadAs(format="csv", columns=("id", "text", "label"), missing_values=("", "NA"))
    fast = [table_from_file(d / n, how) for n in ("v1.csv", "v2.csv")]
    slow = [Table(columns=t.columns, rows=t.rows) for t in fast]
    # when compared through the pyarrow batches and through the csv module's rows
    got = [diff_rows(a, b, key=["id"], label="label", buckets=buckets, workdir=str(d)) for a, b in (fast, slow)]
    # then every figure is the same; the examples too, when all of a kind fit in them (beyond that each path
    # shows the first of its own buckets: the two spread rows over buckets by different hashes)
    def figures(x):
        return (x.added, x.removed, x.changed, x.unchanged, x.relabelled, x.duplicate_keys_old,
                x.duplicate_keys_new, x.old_rows, x.new_rows, x.label_shift)

    def shown(x):
        return {k: sorted(e.key for e in v) if getattr(x, k) <= 5 else len(v) for k, v in x.examples.items()}

    assert figures(got[0]) == figures(got[1])
    assert shown(got[0]) == shown(got[1])
