"""Row keys of Arrow data in batches, and the batch marker for Parquet.

``key_digests`` gives the selection digest of every row of a record batch with one key
column: integer columns and canonical integer text are hashed straight from the Arrow
buffers (batch.Hasher); any other value goes through values.key_part, as row by row. The
Parquet marker then edits only the selected rows and rebuilds only the columns it changed.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import batch
from .mark import Marker
from .tables import PARQUET_BATCH, read_column_batches

CANONICAL_INT = r"^(0|[1-9][0-9]*)$"


def _string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """data, starts, ends of a (large_)string array without nulls."""
    bufs = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offs = np.frombuffer(bufs[1], dtype=width)[arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None and bufs[2].size else np.zeros(1, np.uint8)
    return data, offs[:-1], offs[1:]


def key_digests(col: pa.Array, hasher: Any, key_of: Any) -> tuple[np.ndarray, list[bytes | None]]:
    """(N, 2) digest words of each row's key; rows whose key is not a plain integer are hashed by
    ``key_of(value)`` in Python and their digests returned in the list (None elsewhere)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    n = len(col)
    special: list[bytes | None] = [None] * n
    if pa.types.is_integer(col.type):
        text = pc.fill_null(pc.cast(col, pa.string()), "")
        canonical = np.ones(n, dtype=bool) if not col.null_count else np.asarray(pc.is_valid(col))
    elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = pc.fill_null(col, "")
        canonical = np.asarray(pc.fill_null(pc.match_substring_regex(text, CANONICAL_INT), False))
    else:
        text, canonical = None, np.zeros(n, dtype=bool)
    words = np.zeros((n, 2), dtype=np.uint64)
    if text is not None and canonical.any():
        data, starts, ends = _string_buffers(text)
        idx = np.flatnonzero(canonical)
        words[idx] = hasher.words(data, starts[idx], ends[idx])
    for i in np.flatnonzero(~canonical):
        special[i] = hasher.one(key_of(col[int(i)].as_py()).encode("utf-8"))
    return words, special


def selected_rows(words: np.ndarray, special: list[bytes | None], limit: int) -> list[tuple[int, bytes]]:
    """(row index, digest) of every selected row, in row order."""
    mask = batch.selected_mask(words, limit)
    out = {int(i): batch.digest_bytes(words[i]) for i in np.flatnonzero(mask)}
    for i, d in enumerate(special):
        if d is not None:
            out.pop(i, None)
            if int.from_bytes(d[:8], "big") < limit:
                out[i] = d
    return sorted(out.items())


def single_key(marker: Marker, header: list[str]) -> int | None:
    """Position of the one key column whose key part is its plain value, or None (row path)."""
    plan = marker.plan
    if not batch.AVAILABLE or len(plan.key_columns) != 1 or plan.key_columns[0] in plan.decimals:
        return None
    pos = {name: i for i, name in enumerate(header)}
    return pos.get(plan.key_columns[0])


def mark_parquet(f: BinaryIO, out: BinaryIO, marker: Marker, selection: bytes) -> int | None:
    """Rows marked, or None (nothing written) when the file needs the row path."""
    from .values import key_part

    pf = pq.ParquetFile(f)
    schema = pf.schema_arrow
    header = list(schema.names)
    column = single_key(marker, header)
    if column is None:
        return None
    md = pf.metadata
    codec = "snappy"
    if md.num_row_groups and md.num_columns:
        codec = md.row_group(0).column(0).compression.lower()
        codec = "none" if codec == "uncompressed" else codec
    hasher = batch.hasher_for(marker.plan.scheme, selection)
    count = 0
    with pq.ParquetWriter(out, schema, compression=codec) as writer:
        for rb in pf.iter_batches(batch_size=PARQUET_BATCH):
            if rb.num_rows:
                marker.bind(header)
            words, special = key_digests(rb.column(column), hasher, lambda v: key_part(v, None))
            edits: dict[int, dict[int, Any]] = {}
            for i, digest in selected_rows(words, special, marker.limit):
                row = [c[i].as_py() for c in rb.columns]
                new = marker.selected(count + i + 1, digest, row)
                if new is not None:
                    for j, (a, b) in enumerate(zip(row, new, strict=True)):
                        if a is not b and a != b:
                            edits.setdefault(j, {})[i] = b
            marker.rows += rb.num_rows
            count += rb.num_rows
            if edits:
                cols = list(rb.columns)
                for j, cells in edits.items():
                    values = cols[j].to_pylist()
                    for i, v in cells.items():
                        values[i] = v
                    cols[j] = pa.array(values, type=schema.field(j).type)
                rb = pa.record_batch(cols, schema=schema)
            writer.write_batch(rb)
    return count


def selected_in_batches(f: BinaryIO, fmt: str, plan: Any, wanted: list[str], selection: bytes,
                        read: list[int]) -> tuple[list[str], Any] | None:
    """trace's reader for CSV, TSV and Parquet leaks with one plain key column: every key hashed
    per record batch, only selected rows made into Python lists. None: use the row reader."""
    from .keys import threshold
    from .mark import RowKeys
    from .values import key_part

    if fmt not in ("csv", "tsv", "parquet") or not batch.AVAILABLE or len(plan.key_columns) != 1 \
            or plan.key_columns[0] in plan.decimals:
        return None
    found = read_column_batches(f, fmt, wanted)
    if found is None:
        return None
    present, batches = found
    RowKeys(plan, present)  # KeyColumnsMissing when the key column is absent
    column = present.index(plan.key_columns[0])
    hasher = batch.hasher_for(plan.scheme, selection)
    limit = threshold(plan.rate)

    def rows() -> Any:
        for rb in batches:
            read[0] += rb.num_rows
            words, special = key_digests(rb.column(column), hasher, lambda v: key_part(v, None))
            chosen = selected_rows(words, special, limit)
            if not chosen:
                continue
            sub = rb.take(pa.array([i for i, _ in chosen], type=pa.int64()))
            cols = [c.to_pylist() for c in sub.columns]
            for k, (_, digest) in enumerate(chosen):
                yield digest, [c[k] for c in cols]
    return present, rows()
