"""Exact distinct counting of byte keys with bounded memory.

Keys (joined row values, primary keys, label inputs) are partitioned by a vectorised
64-bit fingerprint and kept in memory until a budget is reached, then spilled to
Arrow IPC files, one per partition. Counting at the end is exact: each partition is
deduplicated on the full key bytes, so fingerprint collisions never merge keys.
A partition too large for memory is re-partitioned with a different seed.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pyarrow as pa
import pyarrow.compute as pc

_U64 = pa.uint64()
_I32 = pa.int32()
_K1 = pa.scalar(0x9E3779B97F4A7C15, _U64)
_K2 = pa.scalar(0xBF58476D1CE4E5B9, _U64)
_K3 = pa.scalar(0x94D049BB133111EB, _U64)
_S30, _S27, _S31, _S32 = (pa.scalar(n, _U64) for n in (30, 27, 31, 32))


def _mix(h: pa.Array) -> pa.Array:
    h = pc.bit_wise_xor(h, pc.shift_right(h, _S30))
    h = pc.multiply(h, _K2)
    h = pc.bit_wise_xor(h, pc.shift_right(h, _S27))
    h = pc.multiply(h, _K3)
    return pc.bit_wise_xor(h, pc.shift_right(h, _S31))


def fingerprint(keys: pa.Array, seed: int = 0) -> pa.Array:
    """64-bit fingerprint of each value from its length and first/last 8 bytes.

    Identical values always get identical fingerprints, whatever array they are in;
    different values that agree on length and the first and last 8 bytes collide
    (harmless for partitioning and exact counts, which compare full bytes; a small bias
    for the distinct-count sketch; re-partitioning uses wide_fingerprint).
    """
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    large = pa.types.is_large_string(keys.type) or pa.types.is_large_binary(keys.type)
    lengths = pc.binary_length(keys)
    h = lengths.cast(_U64)
    h = pc.add(h, pa.scalar((seed * 0x632BE59BD9B4E019 + 1) & 0xFFFFFFFFFFFFFFFF, _U64))
    b = keys.view(pa.large_string() if large else pa.string())
    if (pc.min(lengths).as_py() or 0) < 32:
        # values of fewer than 8 code points are padded with NULs to 8 (so at least 8
        # bytes); longer ones are left alone, so a value's words never depend on the
        # other values in the array (32+ bytes always hold 8+ code points: no call needed)
        b = pc.utf8_rpad(b, width=8, padding="\0")
    b = b.view(pa.large_binary() if large else pa.binary())
    for start, stop in ((0, 8), (-8, None)):
        s = pc.binary_slice(b, start, stop) if stop is not None else pc.binary_slice(b, start)
        w = s.cast(pa.binary()).cast(pa.binary(8)).view(_U64)
        h = pc.multiply(pc.bit_wise_xor(h, w), _K1)
        h = pc.bit_wise_xor(h, pc.shift_right(h, _S32))
    return _mix(h)


def wide_fingerprint(keys: pa.Array, seed: int) -> pa.Array:
    """64-bit fingerprint of the whole value, 8 bytes at a time (for re-partitioning keys
    that the quick fingerprint lumps together, e.g. long texts sharing their ends).
    Independent of the other values in the array."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    b = keys.cast(pa.large_binary() if pa.types.is_large_string(keys.type) or pa.types.is_large_binary(keys.type) else pa.binary())
    lengths = pc.binary_length(b)
    h = fingerprint(b, seed)
    longest = pc.max(lengths).as_py() or 0
    z = pa.scalar(b"\0" * 8, b.type)
    for start in range(0, longest, 8):
        w = pc.binary_slice(pc.binary_join_element_wise(pc.binary_slice(b, start, start + 8), z, pa.scalar(b"", b.type)), 0, 8)
        w = w.cast(pa.binary()).cast(pa.binary(8)).view(_U64)
        mixed = pc.multiply(pc.bit_wise_xor(h, w), _K1)
        mixed = pc.bit_wise_xor(mixed, pc.shift_right(mixed, _S32))
        # only the words a value has: its fingerprint must not depend on its neighbours
        h = pc.if_else(pc.greater(lengths, start), mixed, h)
    return _mix(h)


def python_hash_fingerprint(keys: pa.Array, seed: int) -> pa.Array:
    """Slow fallback (full-content hash) for pathological partitions."""
    vals = keys.to_pylist()
    return pa.array([hash((seed, v)) & 0xFFFFFFFFFFFFFFFF for v in vals], _U64)


class KeyStore:
    """Collects (key[, tag]) rows; answers exact distinct counts at the end.

    Each added batch is partitioned once, by the top bits of its fingerprint, into
    per-partition buffers (one copy of the keys, no re-sorting of a combined buffer);
    when the buffers pass the budget they are appended to one Arrow IPC file per
    partition. At the end each partition is memory-mapped back, so counting reads the
    fingerprints and touches key bytes only where fingerprints are shared.
    """

    def __init__(self, spill_dir: str | None, budget: int, name: str, with_tag: bool = False,
                 partitions: int = 64, tag_type: pa.DataType = _I32):
        self.spill_root = spill_dir
        self.budget = max(budget, 1 << 20)
        self.name = name
        self.with_tag = with_tag
        self.partitions = partitions
        self.bits = partitions.bit_length() - 1
        self._parts: dict[int, list[pa.RecordBatch]] = {}
        self._buf_bytes = 0
        self._dir: str | None = None
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self.tag_type = tag_type
        self._schema = pa.schema([("k", pa.large_binary())] + ([("t", tag_type)] if with_tag else []))
        # partitions keep each key's fingerprint: the final count works on it
        self._disk_schema = self._schema.insert(1, pa.field("f", _U64))
        self.spilled_bytes = 0

    def add(self, keys: pa.Array, tags: pa.Array | None = None) -> None:
        if len(keys) == 0:
            return
        keys = keys.cast(pa.large_binary())
        cols = [keys] + ([tags.cast(self.tag_type)] if self.with_tag else [])
        table = pa.Table.from_arrays(cols, schema=self._schema)
        for part, piece in _split(table, 0, self.bits):
            for batch in piece.to_batches():
                self._parts.setdefault(part, []).append(batch)
                self._buf_bytes += batch.nbytes
        if self._buf_bytes > self.budget:
            self._spill()

    def _spill(self) -> None:
        if not self._parts:
            return
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix=f"quality-{self.name}-", dir=self.spill_root)
        for part, batches in sorted(self._parts.items()):
            w = self._writers.get(part)
            if w is None:
                sink = pa.OSFile(os.path.join(self._dir, f"p{part}.arrow"), "wb")
                w = self._writers[part] = pa.ipc.new_file(sink, self._disk_schema)
            # one record batch per partition and spill (the pieces of many adds are small)
            batch = pa.Table.from_batches(batches, schema=self._disk_schema).combine_chunks().to_batches()[0]
            w.write_batch(batch)
            self.spilled_bytes += batch.nbytes
        self._parts, self._buf_bytes = {}, 0

    def tables(self):
        """Yield tables, one per partition (memory-resident or mapped back from disk)."""
        if self._dir is None:
            parts, self._parts = self._parts, {}
            if self._buf_bytes <= self.budget:
                batches = [b for bs in parts.values() for b in bs]
                if batches:
                    yield pa.Table.from_batches(batches, schema=self._disk_schema)
                return
            for part in sorted(parts):
                yield pa.Table.from_batches(parts[part], schema=self._disk_schema)
            return
        self._spill()
        for w in self._writers.values():
            w.close()
        writers, self._writers = self._writers, {}
        for part in sorted(writers):
            path = os.path.join(self._dir, f"p{part}.arrow")
            if os.path.getsize(path) > self.budget:
                yield from self._resplit(path, 1)
            else:
                yield _read_mapped(path)
                os.remove(path)

    def _resplit(self, path: str, depth: int):
        sub = tempfile.mkdtemp(prefix="re-", dir=self._dir)
        writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        whole = _read_mapped(path)
        table = None
        # in slices of about a quarter of the budget: few kernel calls, bounded copies
        per_row = max(1, whole.nbytes // max(1, whole.num_rows))
        step = max(1024, self.budget // 4 // per_row)
        for start in range(0, whole.num_rows, step):
            table = whole.slice(start, step).combine_chunks()
            for part, piece in _split(table, depth, 4, slow=depth > 3, wide=depth > 1):
                w = writers.get(part)
                if w is None:
                    w = writers[part] = pa.ipc.new_file(
                        pa.OSFile(os.path.join(sub, f"p{part}.arrow"), "wb"), self._disk_schema)
                w.write_table(piece)
        del whole, table
        for w in writers.values():
            w.close()
        os.remove(path)
        for part in sorted(writers):
            p = os.path.join(sub, f"p{part}.arrow")
            if os.path.getsize(p) > self.budget and depth < 6 and len(writers) > 1:
                yield from self._resplit(p, depth + 1)
            else:
                yield _read_mapped(p)
                os.remove(p)

    def count_distinct(self) -> int:
        """Number of distinct keys (exact).

        Keys whose 64-bit fingerprint no other key in the partition shares are distinct;
        only the keys of shared fingerprints are compared on their full bytes.
        """
        total = 0
        for t in self.tables():
            if not t.num_rows:
                continue
            fp = t.column("f")
            distinct, shared = fingerprint_counts(fp, self.bits)
            total += distinct - len(shared)
            if len(shared):
                mask = pc.is_in(fp, shared)
                total += pc.count_distinct(t.column("k").filter(mask)).as_py()
        return total

    def count_keys_with_multiple_tags(self) -> int:
        """Number of distinct keys seen with two or more different tags (exact).

        Only keys whose fingerprint was seen with two or more tags can qualify; those
        few are grouped on their full bytes.
        """
        total = 0
        for t in self.tables():
            if not t.num_rows:
                continue
            fp, tags = t.column("f"), t.column("t")
            values = pc.unique(tags)
            if len(values) < 2:
                continue
            if len(values) <= 16:
                # per tag, its distinct fingerprints; a fingerprint in two of those lists
                # was seen with two tags
                per_tag = [pc.unique(fp.filter(pc.equal(tags, v))) for v in values]
                _, multi_fp = fingerprint_counts(pa.chunked_array(per_tag, _U64), self.bits)
            else:
                pairs = pa.table({"f": fp, "t": tags}).group_by("f", use_threads=False).aggregate(
                    [("t", "min"), ("t", "max")])
                multi_fp = pairs.column("f").filter(
                    pc.not_equal(pairs.column("t_min"), pairs.column("t_max"))).combine_chunks()
            if not len(multi_fp):
                continue
            mask = pc.is_in(fp, multi_fp)
            cand = pa.table({"k": t.column("k").filter(mask), "t": tags.filter(mask)})
            # two or more different tags <=> smallest tag != largest tag
            g = cand.group_by("k", use_threads=False).aggregate([("t", "min"), ("t", "max")])
            total += pc.sum(pc.not_equal(g.column("t_min"), g.column("t_max"))).as_py() or 0
        return total

    def close(self) -> None:
        for w in self._writers.values():
            try:
                w.close()
            except Exception:  # noqa: BLE001 - already closed
                pass
        self._writers = {}
        self._parts = {}
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


# fingerprints counted per slice of about this many: hash tables that fit in the CPU cache
# are several times faster per value than one table for a whole partition
_COUNT_SLICE = 12_000


def fingerprint_counts(fp: pa.Array | pa.ChunkedArray, skip_bits: int) -> tuple[int, pa.Array]:
    """(number of distinct fingerprints, the fingerprints that occur more than once).

    The fingerprints are grouped by the bits below the first `skip_bits` (the
    partition number, the same for all of them) and each group is counted on its own.
    """
    n = len(fp)
    slices = 1
    while slices < 256 and n // slices > _COUNT_SLICE:
        slices *= 2
    if slices == 1:
        groups = [fp]
    else:
        shift = pa.scalar(64 - skip_bits - (slices.bit_length() - 1), _U64)
        sub = pc.bit_wise_and(pc.shift_right(fp, shift), pa.scalar(slices - 1, _U64)).cast(pa.int32())
        groups = [g for _, g in _grouped(fp, sub)]
    distinct, shared = 0, []
    for g in groups:
        vc = pc.value_counts(g)
        multi = pc.greater(vc.field("counts"), 1)
        distinct += len(vc)
        if multi.true_count:
            shared.append(vc.field("values").filter(multi))
    return distinct, (pa.concat_arrays(shared) if shared else pa.array([], _U64))


def _read_mapped(path: str) -> pa.Table:
    """A spilled partition, memory-mapped: pages are read only where they are used."""
    with pa.memory_map(path) as src:
        return pa.ipc.open_file(src).read_all()


def _split(table: pa.Table, seed: int, bits: int, slow: bool = False, wide: bool = False):
    keys = table.column("k").combine_chunks()
    if wide and not slow and (pc.max(pc.binary_length(keys)).as_py() or 0) > 4096:
        slow = True  # very long keys: hashing them 8 bytes per kernel call would crawl
    if slow:
        fp = python_hash_fingerprint(keys, seed)
    elif wide:
        fp = wide_fingerprint(keys, seed)
    else:
        fp = fingerprint(keys, seed)
    if "f" not in table.column_names:
        table = table.add_column(1, "f", fp if seed == 0 and not (slow or wide) else fingerprint(keys, 0))
    part = pc.shift_right(fp, pa.scalar(64 - bits, _U64)).cast(pa.int32())
    yield from _grouped(table, part)


def _grouped(data, ids: pa.Array):
    """(id, the rows of `data` with that id) for each id present, in ascending order:
    one sort of the small integer ids and one take of the data."""
    data = data.take(pc.sort_indices(ids))
    counts = pc.value_counts(ids)
    offset = 0
    for i, n in sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)):
        yield i, data.slice(offset, n)
        offset += n


class DistinctCounter:
    """Distinct values of one column: exact up to a limit, then a KMV sketch."""

    __slots__ = ("exact", "pending", "pending_len", "sketch", "limit", "k", "threshold", "nbytes")

    def __init__(self, limit: int, k: int):
        self.exact: pa.Array | None = pa.array([], pa.string())
        self.pending: list[pa.Array] = []
        self.pending_len = 0
        self.sketch: pa.Array | None = None
        self.limit = limit
        self.k = k
        self.threshold: int | None = None
        self.nbytes = 0

    @property
    def approximate(self) -> bool:
        return self.sketch is not None

    def add(self, values: pa.Array) -> None:
        if self.sketch is not None:
            self._sketch_add(values)
            return
        u = pc.unique(values)
        self.pending.append(u)
        self.pending_len += len(u)
        if self.pending_len > max(len(self.exact), 4096) or self.pending_len > self.limit:
            self._merge()

    def _merge(self) -> None:
        if self.pending:
            self.exact = pc.unique(pa.concat_arrays([self.exact, *self.pending]))
            self.pending, self.pending_len = [], 0
            self.nbytes = self.exact.nbytes
            if len(self.exact) > self.limit:
                self.to_sketch()

    def to_sketch(self) -> None:
        """Switch to the approximate sketch (limit reached or memory pressure)."""
        if self.sketch is not None:
            return
        vals = pa.concat_arrays([self.exact, *self.pending]) if self.pending else self.exact
        self.exact, self.pending, self.pending_len = None, [], 0
        self.sketch = pa.array([], _U64)
        self._sketch_add(vals)

    def _sketch_add(self, values: pa.Array) -> None:
        if len(values) == 0:
            return
        fp = fingerprint(values, 99)
        if self.threshold is not None:
            fp = pc.filter(fp, pc.less(fp, pa.scalar(self.threshold, _U64)))
            if len(fp) == 0:
                return
        merged = pc.unique(pa.concat_arrays([self.sketch, fp]))
        if len(merged) > self.k:
            merged = merged.take(pc.bottom_k_unstable(merged, self.k))
            self.threshold = pc.max(merged).as_py()
        self.sketch = merged
        self.nbytes = merged.nbytes

    def count(self) -> int:
        if self.sketch is None:
            self._merge()
            if self.sketch is None:
                return len(self.exact)
        n = len(self.sketch)
        if n < self.k:
            return n
        kth = pc.max(self.sketch).as_py()
        return int(round((self.k - 1) / ((kth + 1) / 2.0**64)))
