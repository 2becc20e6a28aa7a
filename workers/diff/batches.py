"""The batch path of the row diff: the same counts as ``rows.diff_rows``'s row path, vectorised
with pyarrow (no Django, no per-row Python).

Used when both tables offer ``Table.batches`` (lists of string arrays, one per column, null =
null). Same bounded-memory design as the row path: both tables are streamed once into
``buckets`` Arrow IPC spill files chosen by a hash of the row's identity (the key, or in
content mode the values without the label), then the bucket pairs are compared one at a time.

Exact by construction, not by hash: each row's identity and compared values are written as
canonical text (values escaped, joined by U+001F, null distinct from empty text), and the
bucket pairs are matched on that full text with Arrow's hash join / group-by. The numpy hash
(``_bucket_of``) only spreads rows over buckets; a collision there costs nothing but balance.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EXAMPLES = 5
_KEY_TEXT = 120  # characters of a displayed key (examples only)
_SPECIAL = r"[\x00\x02\x1f]"
_HASH_SLICE = 1 << 21  # bytes of text hashed per numpy step: temporaries stay around 50 MiB
_WEIGHTS = (np.random.default_rng(20261203).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1))
_UNESCAPE = re.compile("\x02(.)", re.S)


class BatchesUnsupported(Exception):
    """Raised by a ``Table.batches`` stream that cannot give this file as batches (the row path then reads it)."""


def canon(cols: Sequence[pa.Array], n: int) -> pa.Array:
    """One string per row identifying the values of ``cols`` exactly: each value escaped (U+0002 → U+0002 U+0002,
    U+001F → U+0002 f, NUL → U+0002 z), null written as NUL, joined by U+001F."""
    if not cols:
        return pa.repeat(pa.scalar("", pa.string()), n)
    out = []
    for c in cols:
        c = c.cast(pa.string()) if c.type != pa.string() else c
        if pc.any(pc.match_substring_regex(c, _SPECIAL)).as_py():
            c = pc.replace_substring(c, "\x02", "\x02\x02")
            c = pc.replace_substring(pc.replace_substring(c, "\x1f", "\x02f"), "\x00", "\x02z")
        out.append(c)
    return pc.binary_join_element_wise(*out, "\x1f", null_handling="replace", null_replacement="\x00")


def key_display(text: str) -> str:
    parts = ["∅" if p == "\x00" else _UNESCAPE.sub(lambda m: {"f": "\x1f", "z": "\x00"}.get(m[1], m[1]), p)
             for p in text.split("\x1f")]
    shown = ", ".join(parts)
    return shown if len(shown) <= _KEY_TEXT else shown[:_KEY_TEXT]


def _bucket_of(text: pa.Array, buckets: int) -> np.ndarray:
    """A bucket number per row from a multilinear hash of the UTF-8 bytes (spread only; not used to match)."""
    n = len(text)
    if buckets == 1:
        return np.zeros(n, dtype=np.int64)
    h = np.zeros(n, dtype=np.uint64)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=n + 1, offset=text.offset * 4).astype(np.int64)
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8) if text.buffers()[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    i = 0
    while i < n:  # slices of about _HASH_SLICE bytes
        j = int(np.searchsorted(offsets, offsets[i] + _HASH_SLICE, side="right")) - 1
        j = min(n, max(j, i + 1))
        lo, hi = offsets[i], offsets[j]
        if hi > lo:
            starts = offsets[i:j] - lo
            ln = lengths[i:j]
            pos = np.arange(hi - lo, dtype=np.int64) - np.repeat(starts, ln)
            prod = data[lo:hi].astype(np.uint64) * _WEIGHTS[pos & 4095]
            nonempty = ln > 0
            part = np.zeros(j - i, dtype=np.uint64)
            part[nonempty] = np.add.reduceat(prod, starts[nonempty])
            h[i:j] = part
        i = j
    h += lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    return (h % np.uint64(buckets)).astype(np.int64)


class _Spill:
    """``n`` Arrow IPC stream files, written lazily, read back one at a time."""

    def __init__(self, directory: str, name: str, n: int, schema: pa.Schema):
        self.paths = [os.path.join(directory, f"{name}-{i}.arrow") for i in range(n)]
        self.schema = schema
        self.writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
        self.sinks: dict[int, object] = {}

    def put(self, batch: pa.RecordBatch, bucket: np.ndarray) -> None:
        if len(self.paths) == 1:
            self._write(0, batch)
            return
        order = np.argsort(bucket, kind="stable")  # one take, then zero-copy slices per bucket (file order kept)
        sorted_b = bucket[order]
        grouped = batch.take(pa.array(order))
        cuts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_b)) + 1, [len(order)]))
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            if b > a:
                self._write(int(sorted_b[a]), grouped.slice(int(a), int(b - a)))

    def _write(self, i: int, batch: pa.RecordBatch) -> None:
        if i not in self.writers:
            self.sinks[i] = pa.OSFile(self.paths[i], "wb")
            self.writers[i] = pa.ipc.new_stream(self.sinks[i], self.schema)
        self.writers[i].write_batch(batch)

    def close(self) -> None:
        for i, w in self.writers.items():
            w.close()
            self.sinks[i].close()

    def read(self, i: int) -> pa.Table:
        if i not in self.writers:
            return self.schema.empty_table()
        with pa.memory_map(self.paths[i]) as src:
            table = pa.ipc.open_stream(src).read_all()
        table = pa.Table.from_batches(table.to_batches(), schema=self.schema).combine_chunks()
        os.unlink(self.paths[i])
        return table


def spill_batches(batches: Callable[[], Iterable[Sequence[pa.Array]]], columns: Sequence[str], spill: _Spill, *,
                  key: tuple[str, ...], compared: tuple[str, ...], label: str | None, mode: str,
                  max_labels: int) -> tuple[int, Counter | None]:
    """Stream one table into ``spill``; returns its row count and label counts (None past ``max_labels``)."""
    pos = {c: i for i, c in enumerate(columns)}
    ident_ix = [pos[c] for c in key] if mode == "key" else [pos[c] for c in compared if c != label]
    cmp_ix = [pos[c] for c in compared]
    label_ix = pos[label] if label is not None else None
    labels: Counter | None = Counter() if label is not None else None
    rows = 0
    for cols in batches():
        if len(cols) != len(columns):
            raise BatchesUnsupported(f"a batch has {len(cols)} columns, the table {len(columns)}")
        cols = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in cols]
        n = len(cols[0]) if cols else 0
        if n == 0:
            continue
        rows += n
        ident = canon([cols[i] for i in ident_ix], n)
        lab = cols[label_ix].cast(pa.string()) if label_ix is not None else pa.nulls(n, pa.string())
        if labels is not None:
            for item in pc.value_counts(lab).to_pylist():
                labels[item["values"]] += item["counts"]
            if len(labels) > max_labels:
                labels = None  # too many distinct values: not a label column
        arrays = [ident, lab] + ([canon([cols[i] for i in cmp_ix], n)] if mode == "key" else [])
        spill.put(pa.RecordBatch.from_arrays(arrays, schema=spill.schema), _bucket_of(ident, len(spill.paths)))
    spill.close()
    return rows, labels


def spill_schema(mode: str) -> pa.Schema:
    fields = [pa.field("ident", pa.string(), nullable=False), pa.field("label", pa.string())]
    return pa.schema(fields + ([pa.field("cmp", pa.string(), nullable=False)] if mode == "key" else []))


def _first_of_each(t: pa.Table) -> tuple[pa.Table, int]:
    """The first row of each identity, in file order, and how many rows repeated one."""
    if t.num_rows == 0:
        return t, 0
    codes = pc.dictionary_encode(t["ident"]).combine_chunks().indices.to_numpy()
    _, first = np.unique(codes, return_index=True)
    first.sort()
    return t.take(pa.array(first)), t.num_rows - len(first)


def _same_label(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.ChunkedArray:
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.or_(pc.fill_null(pc.equal(a, b), False), both_null)


def compare_key_bucket(old: pa.Table, new: pa.Table, counts: Counter, examples: dict[str, list],
                       example: Callable[[str, str, str | None, str | None], object], *, labelled: bool) -> tuple[int, int]:
    """Key mode, one bucket pair: counts and examples; returns the duplicate keys of (old, new)."""
    old, dup_old = _first_of_each(old)
    new, dup_new = _first_of_each(new)
    # join the identities with row numbers only; values and labels are fetched by row number afterwards
    o = pa.table({"ident": old["ident"], "oi": pa.array(np.arange(old.num_rows, dtype=np.int64))})
    n = pa.table({"ident": new["ident"], "ni": pa.array(np.arange(new.num_rows, dtype=np.int64))})
    j = o.join(n, keys="ident", join_type="full outer", coalesce_keys=True)
    has_o, has_n = pc.is_valid(j["oi"]), pc.is_valid(j["ni"])
    both = j.filter(pc.and_(has_o, has_n))
    oi, ni = both["oi"], both["ni"]
    changed = pc.not_equal(old["cmp"].take(oi), new["cmp"].take(ni))
    olab, nlab = old["label"].take(oi), new["label"].take(ni)
    relabelled = pc.and_(changed, pc.invert(_same_label(olab, nlab))) if labelled else None
    only_new, only_old = j.filter(pc.invert(has_o)), j.filter(pc.invert(has_n))
    counts["unchanged"] += both.num_rows - (pc.sum(changed).as_py() or 0)
    views = {"added": (only_new, None), "removed": (only_old, None), "changed": (both, changed)}
    if relabelled is not None:
        views["relabelled"] = (both, relabelled)
    for kind, (rows, mask) in views.items():
        k = rows.num_rows if mask is None else (pc.sum(mask).as_py() or 0)
        counts[kind] += k
        if not k or len(examples[kind]) >= EXAMPLES:
            continue
        picked = rows if mask is None else rows.filter(mask)
        picked = picked.sort_by("oi" if kind == "removed" else "ni").slice(0, EXAMPLES - len(examples[kind]))
        for r in picked.to_pylist():
            o_lab = old["label"][r["oi"]].as_py() if r["oi"] is not None else None
            n_lab = new["label"][r["ni"]].as_py() if r["ni"] is not None else None
            example(kind, key_display(r["ident"]), o_lab, n_lab)
    return dup_old, dup_new


def compare_content_bucket(old: pa.Table, new: pa.Table, counts: Counter, *, labelled: bool) -> None:
    """Content mode, one bucket pair: rows are multisets of (values without the label, label)."""

    def groups(t: pa.Table, side: str) -> pa.Table:
        lk = pc.fill_null(pc.binary_join_element_wise("S", t["label"], ""), "")
        g = pa.table({"ident": t["ident"], "lk": lk}).group_by(["ident", "lk"], use_threads=False).aggregate(
            [([], "count_all")])
        return g.rename_columns({"count_all": side})

    j = groups(old, "o").join(groups(new, "n"), keys=["ident", "lk"], join_type="full outer", coalesce_keys=True,
                              use_threads=False)
    oc, nc = pc.fill_null(j["o"], 0), pc.fill_null(j["n"], 0)
    same = pc.min_element_wise(oc, nc)
    left = pa.table({"ident": j["ident"], "lo": pc.subtract(oc, same), "ln": pc.subtract(nc, same)})
    per = left.group_by("ident", use_threads=False).aggregate([("lo", "sum"), ("ln", "sum")])
    left_o, left_n = per["lo_sum"], per["ln_sum"]
    pairs = (pc.sum(pc.min_element_wise(left_o, left_n)).as_py() or 0) if labelled else 0
    counts["unchanged"] += pc.sum(same).as_py() or 0
    counts["changed"] += pairs
    counts["relabelled"] += pairs
    counts["added"] += (pc.sum(left_n).as_py() or 0) - pairs
    counts["removed"] += (pc.sum(left_o).as_py() or 0) - pairs
