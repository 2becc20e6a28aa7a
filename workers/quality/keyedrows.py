"""Duplicate and near-duplicate rows counted through the primary key (no Django).

When the schema declares a primary key and none of its columns is normalised for
near-duplicates (none is a text column), two rows can be equal, exactly or after
normalisation, only if their key values are equal: the key columns are part of both
row keys, unchanged, and a joined key (fields joined by U+001F, which no escaped or
normalised field holds) is equal only when every field is. So a row whose key value
occurs once is a distinct row and a distinct normalised row, and only the rows whose key
repeats need their whole rows compared:

- while reading, each row's key goes to a partitioned KeyStore tagged with the row's
  index, and its whole-row key is appended, in file order, to one spill file (one write
  per batch: no fingerprint, no partitioning, no normalisation);
- at the end the key store gives the exact number of distinct key values and marks the
  rows whose key fingerprint is shared within its partition (a superset of the rows
  whose key repeats); only those rows are read back, normalised, and counted exactly
  in two KeyStores, as the general path (passes/keys.py) counts every row.

The counts equal the general path's (tests/workers/test_quality_keyed.py compares both).
Memory: the key store's budget, a bitmap of one bit per row, one batch read back at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrowutil import SEP
from .keys import KeyStore, fingerprint_counts
from .normalise import join, normalise_columns

_ROWS_SCHEMA = pa.schema([("k", pa.string())])


def keyed_path_applies(pk_idx: list[int], text_cols: list[bool]) -> bool:
    """Whether duplicates may be counted through the primary key: a key is declared and
    none of its columns is changed by near-duplicate normalisation."""
    return bool(pk_idx) and not any(text_cols[i] for i in pk_idx)


class KeyedRows:
    """Exact counts of distinct rows, distinct normalised rows and distinct key values."""

    def __init__(self, spill_dir: str | None, budget: int, parts: int, ncols: int, text_cols: list[bool],
                 near: bool):
        self.spill_dir = spill_dir
        self.budget = budget
        self.parts = parts
        self.ncols = ncols
        self.text_cols = text_cols
        self.near = near
        self.pk_keys = KeyStore(spill_dir, budget // 2, "pk", with_tag=True, tag_type=pa.int64(),
                                partitions=parts)
        self.rows = 0
        self._dir: str | None = None
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._counts: dict[str, int] | None = None
        self._lock = threading.Lock()

    def add(self, pk_key: pa.Array, row_key: pa.Array) -> None:
        """One batch: the rows' primary keys and whole-row keys (same length)."""
        n = len(row_key)
        if n == 0:
            return
        self.pk_keys.add(pk_key, pa.array(np.arange(self.rows, self.rows + n, dtype=np.int64)))
        if self._writer is None:
            self._dir = tempfile.mkdtemp(prefix="quality-keyed-", dir=self.spill_dir)
            self._writer = pa.ipc.new_file(pa.OSFile(os.path.join(self._dir, "rows.arrow"), "wb"), _ROWS_SCHEMA)
        if row_key.type != pa.string():
            row_key = row_key.cast(pa.string())
        self._writer.write_batch(pa.record_batch([row_key], schema=_ROWS_SCHEMA))
        self.rows += n

    # ---- the end -----------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """{"rows", "pk"[, "near_rows"]}: distinct counts (computed once)."""
        with self._lock:
            if self._counts is None:
                self._counts = self._count()
            return self._counts

    def _count(self) -> dict[str, int]:
        marks = np.zeros((self.rows + 7) // 8, dtype=np.uint8)
        distinct_pk = 0
        candidates = 0
        for t in self.pk_keys.tables():
            if not t.num_rows:
                continue
            fp = t.column("f")
            distinct, shared = fingerprint_counts(fp, self.pk_keys.bits)
            distinct_pk += distinct - len(shared)
            if len(shared):
                mask = pc.is_in(fp, shared)
                distinct_pk += pc.count_distinct(t.column("k").filter(mask)).as_py()
                idx = t.column("t").filter(mask).to_numpy()
                candidates += len(idx)
                np.bitwise_or.at(marks, idx >> 3, (1 << (idx & 7)).astype(np.uint8))
        out = {"pk": distinct_pk, "rows": self.rows - candidates}
        if self.near:
            out["near_rows"] = self.rows - candidates
        if candidates:
            rows_store = KeyStore(self.spill_dir, self.budget, "rows", partitions=self.parts)
            near_store = KeyStore(self.spill_dir, self.budget, "near", partitions=self.parts) if self.near else None
            try:
                for keys in self._candidate_keys(marks):
                    rows_store.add(keys)
                    if near_store is not None:
                        near_store.add(self._normalised(keys))
                out["rows"] += rows_store.count_distinct()
                if near_store is not None:
                    out["near_rows"] += near_store.count_distinct()
            finally:
                rows_store.close()
                if near_store is not None:
                    near_store.close()
        return out

    def _candidate_keys(self, marks: np.ndarray):
        """The whole-row keys of the marked rows, a batch at a time, in file order."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        offset = 0
        with pa.OSFile(os.path.join(self._dir, "rows.arrow"), "rb") as src:
            reader = pa.ipc.open_file(src)
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                n = batch.num_rows
                lo, hi = offset // 8, (offset + n + 7) // 8
                if marks[lo:hi].any():
                    bits = np.unpackbits(marks[lo:hi], bitorder="little")[offset % 8: offset % 8 + n]
                    if bits.any():
                        yield batch.column(0).filter(pa.array(bits.astype(bool)))
                offset += n

    def _normalised(self, keys: pa.Array) -> pa.Array:
        """The near-duplicate keys of these rows, as passes/keys.py makes them: the row
        key split back into its (escaped) fields, text fields normalised, joined."""
        if self.ncols == 1:
            cols = [keys]
        else:
            parts = pc.split_pattern(keys, SEP)
            cols = [pc.list_element(parts, i) for i in range(self.ncols)]
        return join(normalise_columns(cols, self.text_cols))

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - already closed or failed
                pass
            self._writer = None
        self.pk_keys.close()
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
