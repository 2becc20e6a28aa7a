"""Streaming data-quality profiler (CSV/TSV, JSON Lines, Parquet) built on pyarrow.

Everything is computed batch by batch with vectorised pyarrow kernels; only the few
cells that a vectorised prefilter flags (personal-data candidates, formula-like cells)
are looked at in Python. Memory is bounded by QualityOptions.memory_limit_bytes: exact
duplicate / primary-key / conflict counting spills partitioned keys to disk.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from . import findings, pii, tableschema, textinput
from .csvplan import line_endings_seen, plan_csv
from .detect import FORMATS, detect_format, refusal_message
from .encoding import EncodingChoice, Undecodable
from .fields import valid_number
from .jsonl import KeyUnion, NewKeys, RowBuilder, nested_finding
from .keys import DistinctCounter, KeyStore
from .lines import LineGuard, LineTooLong, universal_newlines
from .normalise import join, normalise_columns
from .options import MiB, QualityOptions
from .schema import (
    FALSE_VALUES,
    JSON_TYPES,
    NUMBER_RE,
    PATTERNS,
    TRUE_VALUES,
    validate_table_schema,
)
from .score import score_deductions, score_report
from .stats import ColumnStatistics, label_shares

HEAD_BYTES = 1 * MiB
SEP = "\x1f"
FORMULA_RE = r"^[=+\-@\t\r]"
# a row (fields joined by SEP) that may hold personal data or a formula-like cell
ROW_PREFILTER_RE = pii.PREFILTER_RE + r"|(^|\x1f)[=+\-@\t\r]"
# batches that may wait per helper thread
PIPELINE_DEPTH = 2
# groups of rows searched as one value by the prefilter (see _candidate_rows)
GROUP_ROWS = 32
GROUP_PREFILTER_RE = pii.PREFILTER_RE + r"|\x1f[=+\-@\t\r]"
FORMULA_LEADS = pa.array(["=", "+", "-", "@", "\t", "\r"], pa.string())
INFER_ORDER = ("integer", "number", "boolean", "date", "datetime")
_END = object()

Progress = Callable[[int, int, "float | None"], None]


class _Refused(Exception):
    """The file cannot be profiled; the message says why."""


class _Straddle(Exception):
    """A row is longer than the current block size."""


class _Stream(io.RawIOBase):
    """Replays the already-read head, then the rest of the source; counts bytes."""

    def __init__(self, head: bytes, rest: Any, skip: int = 0, guard: LineGuard | None = None):
        self._head = memoryview(head)[skip:]
        self._rest = rest
        self.bytes_read = skip
        self.guard = guard

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = len(b)
        if len(self._head):
            k = min(n, len(self._head))
            if self.guard is not None:
                self.guard.feed(self._head[:k])
            b[:k] = self._head[:k]
            self._head = self._head[k:]
            self.bytes_read += k
            return k
        data = self._rest.read(n)
        if not data:
            return 0
        if self.guard is not None:
            self.guard.feed(data)
        k = len(data)
        b[:k] = data
        self.bytes_read += k
        return k


def _read_exactly(f: Any, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        data = f.read(n - got)
        if not data:
            break
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


def _buffer_contains(arr: pa.Array, needle: str) -> bool:
    """Whether any value of a string array holds `needle`: one memchr-speed scan of the
    values' bytes instead of one search per value (a hit may straddle two values when
    the needle is longer than one byte: callers re-check)."""
    data = arr.buffers()[2]
    if data is None or data.size == 0 or len(arr) == 0:
        return False
    offsets = _offsets(arr)
    first, last = offsets[0].as_py(), offsets[-1].as_py()
    return data[first:last].to_pybytes().find(needle.encode()) >= 0


def _offsets(arr: pa.Array) -> pa.Array:
    """The value offsets of a (large) string or binary array as an integer array (zero-copy,
    slice offset applied): value i spans data[offsets[i]:offsets[i + 1]]."""
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    return pa.Array.from_buffers(pa.int64() if large else pa.int32(), len(arr) + 1,
                                 [None, arr.buffers()[1]], offset=arr.offset)


def _submit(futures: deque, pool: ThreadPoolExecutor, fn: Callable, *args: Any) -> None:
    """Queue fn(*args) on a one-thread pool, first waiting while PIPELINE_DEPTH are pending
    (their errors surface here)."""
    while len(futures) >= PIPELINE_DEPTH:
        futures.popleft().result()
    futures.append(pool.submit(fn, *args))


def _drain(futures: deque) -> None:
    """Wait for every pending future; the first error is raised after all have ended."""
    error = None
    while futures:
        try:
            futures.popleft().result()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            error = error or exc
    if error is not None:
        raise error


def _partition_count(total_bytes: int | None, budget: int) -> int:
    """Spill partitions per key store: enough that a partition of whole-row keys (about
    the file's size, plus 16 bytes a row) fits the row store's budget when read back, so
    that it need not be split again; 64 when the size is unknown (re-splitting then
    handles larger inputs)."""
    parts = 64
    if total_bytes:
        while parts < 512 and total_bytes * 1.3 / parts > budget * 0.8:
            parts *= 2
    return parts


def _candidate_rows(raw_key: pa.Array, first: pa.Array, n: int) -> pa.Array:
    """Indices (ascending) of the rows that may hold personal data or a formula-like cell.

    The search runs over groups of GROUP_ROWS consecutive rows taken as one value (the
    joined rows lie back to back in one buffer: a group is just every GROUP_ROWS-th
    offset), so the regex engine's per-value cost is paid once per group; only the rows
    of matching groups are searched one by one. A group contains each of its rows, so a
    row that matches always makes its group match, except for a formula character at the
    very start of a row (no separator before it inside a group): first cells are checked
    on their own. Callers check every candidate cell exactly, so extra candidates are
    harmless and none is missed.
    """
    if n <= 4 * GROUP_ROWS or raw_key.type != pa.string():
        return pc.indices_nonzero(pc.match_substring_regex(raw_key, ROW_PREFILTER_RE))
    bounds = _offsets(raw_key).take(pa.array([*range(0, n, GROUP_ROWS), n], pa.int32()))
    groups = pa.Array.from_buffers(pa.string(), len(bounds) - 1,
                                   [None, bounds.buffers()[1], raw_key.buffers()[2]])
    parts = []
    hit = pc.indices_nonzero(pc.match_substring_regex(groups, GROUP_PREFILTER_RE)).to_pylist()
    if hit:
        idx = pa.array([r for g in hit for r in range(g * GROUP_ROWS, min(n, (g + 1) * GROUP_ROWS))],
                       pa.uint64())
        parts.append(idx.filter(pc.match_substring_regex(raw_key.take(idx), ROW_PREFILTER_RE)))
    lead = pc.is_in(pc.utf8_slice_codeunits(first, 0, 1), value_set=FORMULA_LEADS)
    if lead.true_count:
        parts.append(pc.indices_nonzero(lead))
    if not parts:
        return pa.array([], pa.uint64())
    if len(parts) == 1:
        return parts[0]
    return pc.unique(pa.concat_arrays(parts)).sort()


def _merge_min(a: Any, b: Any) -> Any:
    return b if a is None or (b is not None and b < a) else a


def _merge_max(a: Any, b: Any) -> Any:
    return b if a is None or (b is not None and b > a) else a


class _Column:
    __slots__ = ("name", "declared", "type", "null", "invalid", "min", "max", "distinct",
                 "candidates", "smin", "smax", "nmin", "nmax", "pii")

    def __init__(self, name: str, declared: str | None, opts: QualityOptions, k: int):
        self.name = name
        self.declared = declared
        self.type = declared or "string"
        self.null = 0
        self.invalid = 0
        self.min = self.max = None
        self.smin = self.smax = None  # string min/max for inferred columns
        self.nmin = self.nmax = None  # numeric min/max for inferred columns
        self.distinct = DistinctCounter(opts.distinct_exact_limit, k)
        self.candidates = list(INFER_ORDER) if declared is None else []
        self.pii: dict[str, int] = {}


class _State:
    """All figures for one pass over the file."""

    def __init__(self, prof: Profiler, header: list[str]):
        o = prof.options
        self.prof = prof
        self.opts = o
        self.header = header
        self.n = len(header)
        fields = prof.fields
        k = max(256, min(o.distinct_sketch_size, (o.memory_limit_bytes // 8) // (16 * max(1, self.n))))
        self.cols = [_Column(h, fields[h].get("type", "string") if h in fields else None, o, k)
                     for h in header]
        self.rows = 0
        self.malformed = 0
        self.blank_lines = 0
        self.examples: list[tuple[int, int]] = []  # (row number or line, newlines in text)
        self.nl_records: list[tuple[int, int]] = []  # (good row index, embedded newlines)
        self.nl_tracking = True
        self.sample: list[dict[str, str]] = []
        self.formula = 0
        self.formula_by_col: dict[str, int] = {}
        self.pii_examples: list[str] = []
        self.pii_example_kinds: dict[str, int] = {}
        self.control_by_col: dict[str, int] = {}
        self.missing_values = prof.missing_values
        budget = o.memory_limit_bytes // 16
        parts = _partition_count(prof.total_bytes, budget)
        self.row_keys = KeyStore(o.spill_dir, budget, "rows", partitions=parts)
        # statistics (workers/quality/stats.py) and near-duplicate keys (normalise.py)
        self.stats = ColumnStatistics([c.declared for c in self.cols],
                                      max(16, min(o.stats_exact_limit, o.memory_limit_bytes // 32 // (16 * max(1, self.n)))))
        self.near_keys = KeyStore(o.spill_dir, budget, "near", partitions=parts) if o.near_duplicates else None
        self.text_cols = [c.declared in (None, "string", "any") for c in self.cols]
        idx = {h: i for i, h in enumerate(header)}
        self.pk_idx = [idx[c] for c in prof.primary_key if c in idx] if prof.primary_key else []
        if prof.primary_key and len(self.pk_idx) != len(prof.primary_key):
            self.pk_idx = []
        self.pk_keys = KeyStore(o.spill_dir, budget // 2, "pk", partitions=parts) if self.pk_idx else None
        # a one-column primary key: its distinct count comes from the (exact) key store
        self.pk_col = self.pk_idx[0] if len(self.pk_idx) == 1 else None
        self.pk_missing: set[str] = set()
        self.label_idx = idx.get(prof.label_field) if prof.label_field else None
        self.labels = prof.labels
        self.label_counts: dict[str, int] = {}
        self.label_outside = 0
        self.label_missing = 0
        self.label_ids: dict[str, int] = {lab: i for i, lab in enumerate(self.labels or [])}
        if self.label_idx is not None:
            if prof.input_fields:
                self.input_idx = [idx[c] for c in prof.input_fields if c in idx]
            else:
                pk = set(self.pk_idx)
                self.input_idx = [i for i in range(self.n) if i != self.label_idx and i not in pk]
            self.conflict_keys = KeyStore(o.spill_dir, budget // 2, "conflicts", with_tag=True,
                                          partitions=parts)
            self.near_conflict_keys = (KeyStore(o.spill_dir, budget // 2, "near-conflicts", with_tag=True,
                                                partitions=parts) if o.near_duplicates else None)
        else:
            self.input_idx = []
            self.conflict_keys = self.near_conflict_keys = None
        # Table Schema: per-column null sets; fields with a format, options or constraints
        # are checked by tableschema (the built-in type check below handles the rest)
        self.null_sets, self.checks = tableschema.prepare(prof, header)
        self.type_groups: dict[str, list[int]] = {}
        for i, c in enumerate(self.cols):
            if c.declared is not None and i not in self.checks:
                self.type_groups.setdefault(c.declared, []).append(i)
        self.distinct_budget = o.memory_limit_bytes // 8
        # key work (row / primary-key / conflict keys) and distinct counting each run on
        # their own thread (so each kind stays in batch order), overlapping the column work
        # of the next batches; pyarrow kernels release the GIL. Up to PIPELINE_DEPTH
        # batches may wait per thread, which absorbs uneven batches without stalling.
        self.key_pool = ThreadPoolExecutor(1, thread_name_prefix="quality-keys") if o.reader_threads else None
        self.distinct_pool = (ThreadPoolExecutor(1, thread_name_prefix="quality-distinct")
                              if o.reader_threads else None)
        self.key_futures: deque[Future] = deque()
        self.distinct_futures: deque[Future] = deque()
        self._finals: dict[str, int] | None = None

    def close(self) -> None:
        try:
            self.wait()
        except Exception:  # noqa: BLE001 - closing after a failure
            pass
        for pool in (self.key_pool, self.distinct_pool):
            if pool is not None:
                pool.shutdown(wait=True)
        self.key_pool = self.distinct_pool = None
        for store in (self.row_keys, self.pk_keys, self.conflict_keys, self.near_keys, self.near_conflict_keys,
                      *self.checks.values()):
            if store is not None:
                store.close()

    # ---- per batch -------------------------------------------------------------
    def add_batch(self, cols: list[pa.Array]) -> None:
        """Profile one batch: key work on the key thread, column work here, in parallel."""
        prep = self._prepare(cols)
        if prep is None:
            return
        cols, key_cols, raw_key, row_key, n = prep
        if self.prof.format == "jsonl" or (self.prof.guard is not None and self.prof.guard.control):
            for name, k in zip(self.header, findings.control_cells(cols), strict=True):
                if k:
                    self.control_by_col[name] = self.control_by_col.get(name, 0) + k
        offset = self.rows
        self.rows += n
        if self.key_pool is None:
            self._keys(cols, key_cols, row_key, n, offset)
            self._columns(cols, raw_key, n)
            return
        _submit(self.key_futures, self.key_pool, self._keys, cols, key_cols, row_key, n, offset)
        self._columns(cols, raw_key, n)

    def final_counts(self) -> dict[str, int]:
        """Exact counts of the key stores, computed once, the stores in parallel."""
        if self._finals is None:
            self.wait()
            jobs = {"rows": self.row_keys.count_distinct}
            if self.near_keys is not None:
                jobs["near_rows"] = self.near_keys.count_distinct
            if self.conflict_keys is not None and self.input_idx:
                jobs["conflicts"] = self.conflict_keys.count_keys_with_multiple_tags
                if self.near_conflict_keys is not None:
                    jobs["near_conflicts"] = self.near_conflict_keys.count_keys_with_multiple_tags
            if self.pk_keys is not None:
                jobs["pk"] = self.pk_keys.count_distinct
            if self.key_pool is None:
                self._finals = {k: f() for k, f in jobs.items()}
            else:
                # conflicts on one thread, rows then the primary key on the other
                futs = {k: (self.distinct_pool if "conflicts" in k else self.key_pool).submit(f)
                        for k, f in jobs.items()}
                self._finals = {k: f.result() for k, f in futs.items()}
        return self._finals

    def wait_keys(self) -> None:
        _drain(self.key_futures)

    def wait_distinct(self) -> None:
        _drain(self.distinct_futures)

    def wait(self) -> None:
        """Wait for the helper threads' work on earlier batches."""
        try:
            self.wait_keys()
        finally:
            self.wait_distinct()

    def _prepare(self, cols: list[pa.Array]):
        n = len(cols[0]) if cols else 0
        if n == 0:
            return None
        ncols = self.n
        cols = [c if c.type == pa.string() else c.cast(pa.string()) for c in cols]
        cols = [c.fill_null("") if c.null_count else c for c in cols]
        # blank lines (and rows whose fields are all empty) carry no data: excluded
        raw_key = pc.binary_join_element_wise(*cols, SEP) if ncols > 1 else cols[0]
        blank = pc.equal(pc.binary_length(raw_key), ncols - 1)
        nblank = blank.true_count
        if nblank:
            self.blank_lines += nblank
            keep = pc.invert(blank)
            cols = [c.filter(keep) for c in cols]
            raw_key = raw_key.filter(keep)
            n -= nblank
            if n == 0:
                return None
        if len(self.sample) < self.opts.sample_rows:
            need = self.opts.sample_rows - len(self.sample)
            vals = [c.slice(0, need).to_pylist() for c in cols]
            for row in zip(*vals, strict=True):
                self.sample.append(dict(zip(self.header, row, strict=True)))
        # key separators inside values are escaped in the keys (not in the figures)
        key_cols = cols
        row_key = raw_key
        if ncols > 1:
            if any(_buffer_contains(c, SEP) for c in cols):
                key_cols = list(cols)
                for ci, c in enumerate(cols):
                    if pc.any(pc.match_substring(c, SEP)).as_py():
                        col = pc.replace_substring(c, "\\", "\\\\")
                        key_cols[ci] = pc.replace_substring(col, SEP, "\\u")
                row_key = pc.binary_join_element_wise(*key_cols, SEP)
        return cols, key_cols, raw_key, row_key, n

    def _columns(self, cols: list[pa.Array], raw_key: pa.Array, n: int) -> None:
        ncols = self.n
        melt = pa.concat_arrays(cols) if ncols > 1 else cols[0]
        empty = tableschema.null_mask_columns(cols, melt, self.null_sets)
        for i, c in enumerate(self.cols):
            c.null += empty.slice(i * n, n).true_count
        if self.checks:
            tableschema.check_batch(self.checks, self.cols, cols, empty, n, self.rows - n)

        # declared types
        for t, idxs in self.type_groups.items():
            self._check_type(t, idxs, cols, empty, n)
        # inference for undeclared columns
        for i, c in enumerate(self.cols):
            if c.declared is None:
                self._infer(c, cols[i], empty.slice(i * n, n))

        # distinct and statistics (on a helper thread)
        if self.distinct_pool is None:
            self._distinct(cols, empty, n)
            self.stats.add(cols, empty, n)
        else:
            _submit(self.distinct_futures, self.distinct_pool, self._distinct, cols, empty, n)
            _submit(self.distinct_futures, self.distinct_pool, self.stats.add, cols, empty, n)

        # personal data and formula injection: one regex pass over the joined rows finds
        # the few rows that could hold either; their cells are then checked one by one
        rows = _candidate_rows(raw_key, cols[0], n)
        if not len(rows):
            return
        pre, fml = [], []
        for ci, col in enumerate(cols):
            sub = col.take(rows)
            base = pa.scalar(ci * n, pa.uint64())
            m = pc.match_substring_regex(sub, pii.PREFILTER_RE)
            if m.true_count:
                pre.append(pc.add(rows.filter(m), base))
            f = pc.match_substring_regex(sub, FORMULA_RE)
            if f.true_count:
                fml.append(pc.add(rows.filter(f), base))
        if pre:
            self._pii(melt, pa.concat_arrays(pre), n)
        if fml:
            idx = pa.concat_arrays(fml)
            cand = melt.take(idx)
            notnum = pc.invert(pc.match_substring_regex(cand, NUMBER_RE))
            cnt = notnum.true_count
            if cnt:
                self.formula += cnt
                colidx = pc.divide(idx.filter(notnum), pa.scalar(n, pa.uint64())).to_pylist()
                for ci in colidx:
                    name = self.header[ci]
                    self.formula_by_col[name] = self.formula_by_col.get(name, 0) + 1

    def _keys(self, cols: list[pa.Array], key_cols: list[pa.Array], row_key: pa.Array, n: int,
              offset: int) -> None:
        """Whole-row, primary-key and label-conflict keys (runs on the key thread)."""
        self.row_keys.add(row_key)
        near_cols = None
        if self.near_keys is not None:
            near_cols = normalise_columns(key_cols, self.text_cols)
            self.near_keys.add(join(near_cols))
        if self.nl_tracking:
            self._track_newlines(row_key, offset)
        if self.pk_keys is not None:
            if len(self.pk_idx) == 1:
                self.pk_keys.add(key_cols[self.pk_idx[0]])
            else:
                self.pk_keys.add(pc.binary_join_element_wise(*[key_cols[i] for i in self.pk_idx], SEP))
        if self.label_idx is not None:
            self._labels(cols, key_cols, n, near_cols)

    def _distinct(self, cols: list[pa.Array], empty: pa.Array, n: int) -> None:
        total_distinct = 0
        for i, c in enumerate(self.cols):
            col = cols[i]
            e = empty.slice(i * n, n)
            if i == self.pk_col:
                # the primary-key store counts this column's values exactly: only note
                # which missing-value tokens it holds (they are not distinct values)
                if e.true_count:
                    self.pk_missing.update(pc.unique(col.filter(e)).to_pylist())
                continue
            if e.true_count:
                col = col.filter(pc.invert(e))
            c.distinct.add(col)
            total_distinct += c.distinct.nbytes
        if total_distinct > self.distinct_budget:
            for c in sorted(self.cols, key=lambda c: -c.distinct.nbytes):
                if total_distinct <= self.distinct_budget // 2:
                    break
                if not c.distinct.approximate:
                    total_distinct -= c.distinct.nbytes
                    c.distinct.to_sketch()

    def _check_type(self, t: str, idxs: list[int], cols: list[pa.Array], empty: pa.Array, n: int) -> None:
        if t in ("string", "any"):
            for i in idxs:
                col, c = cols[i], self.cols[i]
                nn = empty.slice(i * n, n)
                vals = col.filter(pc.invert(nn)) if c.null else col
                if len(vals):
                    mm = pc.min_max(vals)
                    c.min = _merge_min(c.min, mm["min"].as_py())
                    c.max = _merge_max(c.max, mm["max"].as_py())
            return
        sub = pa.concat_arrays([cols[i] for i in idxs]) if len(idxs) > 1 else cols[idxs[0]]
        valid = self._valid(t, sub)
        for j, i in enumerate(idxs):
            c = self.cols[i]
            v = valid.slice(j * n, n)
            e = empty.slice(i * n, n)
            bad = pc.and_(pc.invert(v), pc.invert(e))
            c.invalid += bad.true_count
            good = pc.and_(v, pc.invert(e))
            vals = cols[i].filter(good) if good.true_count != n else cols[i]
            if len(vals):
                lo, hi = _min_max(t, vals)
                c.min = _merge_min(c.min, lo)
                c.max = _merge_max(c.max, hi)

    def _valid(self, t: str, arr: pa.Array) -> pa.Array:
        if t in ("integer", "number"):
            return valid_number(t, arr)  # digits fast path, regex for the rest (fields.py)
        if t in PATTERNS:
            v = pc.match_substring_regex(arr, PATTERNS[t])
            if t in ("date", "datetime"):
                # the pattern checks ranges; the round trip rejects days like 2023-02-29
                day = arr if t == "date" else pc.utf8_slice_codeunits(arr, 0, 10)
                late = pc.or_(pc.or_(pc.ends_with(day, "-29"), pc.ends_with(day, "-30")), pc.ends_with(day, "-31"))
                late = pc.and_(v, late)
                if late.true_count:
                    idx = pc.indices_nonzero(late)
                    sub = day.take(idx)
                    d = pc.strptime(sub, format="%Y-%m-%d", unit="s", error_is_null=True)
                    same = pc.fill_null(pc.equal(pc.strftime(d, format="%Y-%m-%d"), sub), False)
                    if same.false_count:
                        v = pc.replace_with_mask(v, late, same)
            return v
        if t == "boolean":
            return pc.is_in(arr, pa.array(TRUE_VALUES + FALSE_VALUES, pa.string()))
        if t in JSON_TYPES or t == "list":
            want = JSON_TYPES.get(t, list)
            out = []
            for s in arr.to_pylist():
                try:
                    out.append(isinstance(json.loads(s), want) if s else True)
                except ValueError:
                    out.append(t == "list")  # list: comma-separated text is valid too
            return pa.array(out, pa.bool_())
        return pc.is_valid(arr)

    def _infer(self, c: _Column, col: pa.Array, e: pa.Array) -> None:
        vals = col.filter(pc.invert(e)) if c.null else col
        if not len(vals):
            return
        mm = pc.min_max(vals)
        c.smin = _merge_min(c.smin, mm["min"].as_py())
        c.smax = _merge_max(c.smax, mm["max"].as_py())
        keep = []
        for t in c.candidates:
            if self._valid(t, vals).false_count == 0:
                keep.append(t)
                if t in ("integer", "number"):
                    lo, hi = _min_max(t, vals)
                    c.nmin = _merge_min(c.nmin, lo)
                    c.nmax = _merge_max(c.nmax, hi)
                    break  # number follows from integer
        if "integer" in keep:
            keep = ["integer", "number"]
        elif "number" in keep:
            keep = ["number"]
        c.candidates = keep

    def _pii(self, melt: pa.Array, idx: pa.Array, n: int) -> None:
        cand = melt.take(idx)
        colof = pc.divide(idx, pa.scalar(n, pa.uint64()))
        pd = self.prof.personal_data
        want_examples = len(self.pii_examples) < self.opts.max_pii_examples
        for kind, pattern in (("mobile", pii.MOBILE_RE2), ("email", pii.EMAIL_RE2)):
            m = pc.match_substring_regex(cand, pattern)
            if not m.true_count:
                continue
            counts = pc.value_counts(colof.filter(m))
            for ci, cnt in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
                d = self.cols[ci].pii
                d[kind] = d.get(kind, 0) + cnt
            if want_examples or pd is False:
                rx = pii.MOBILE if kind == "mobile" else pii.EMAIL
                for s in cand.filter(m).slice(0, 5).to_pylist():
                    found = rx.search(s)
                    if found:
                        self._example(kind, found.group())
        long = pc.match_substring_regex(cand, pii.LONG_DIGITS_RE2)
        if long.true_count:
            cells = cand.filter(long).to_pylist()
            cis = colof.filter(long).to_pylist()
            for s, ci in zip(cells, cis, strict=True):
                ids, cards = pii.id_and_card_matches(s)
                d = self.cols[ci].pii
                if ids:
                    d["resident_id"] = d.get("resident_id", 0) + 1
                    self._example("resident_id", ids[0])
                if cards:
                    d["bank_card"] = d.get("bank_card", 0) + 1
                    self._example("bank_card", cards[0])

    def _example(self, kind: str, s: str) -> None:
        if len(self.pii_examples) >= self.opts.max_pii_examples:
            return
        if self.pii_example_kinds.get(kind, 0) >= 3:
            return
        red = pii.redact(s)
        if red not in self.pii_examples:
            self.pii_examples.append(red)
            self.pii_example_kinds[kind] = self.pii_example_kinds.get(kind, 0) + 1

    def _labels(self, cols: list[pa.Array], key_cols: list[pa.Array], n: int,
                near_cols: list[pa.Array] | None) -> None:
        # one hash pass (dictionary encoding); the rest works on the few distinct labels
        denc = cols[self.label_idx].dictionary_encode()
        values = denc.dictionary.to_pylist()
        vc = pc.value_counts(denc.indices)
        counts = dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))
        declared = self.labels is not None
        tag_of: list[int | None] = []
        n_in = 0
        for j, v in enumerate(values):
            cnt = counts.get(j, 0)
            if tableschema.is_null_text(v, self.null_sets[self.label_idx]):
                self.label_missing += cnt
                tag_of.append(None)
                continue
            if declared and v not in self.label_ids:
                self.label_outside += cnt
                tag_of.append(None)
                continue
            tag = self.label_ids[v] if declared else self.label_ids.setdefault(v, len(self.label_ids))
            tag_of.append(tag)
            n_in += cnt
            if cnt and (v in self.label_counts or len(self.label_counts) < 10_000):
                self.label_counts[v] = self.label_counts.get(v, 0) + cnt
        tags = pa.array(tag_of, pa.int32()).take(denc.indices)
        if not self.input_idx or not n_in:
            return
        in_set = pc.is_valid(tags)
        if len(self.input_idx) == 1:
            key = key_cols[self.input_idx[0]]
        else:
            key = pc.binary_join_element_wise(*[key_cols[i] for i in self.input_idx], SEP)
        if n_in != n:
            key, tags = key.filter(in_set), tags.filter(in_set)
        self.conflict_keys.add(key, tags)
        if near_cols is not None:
            near = join([near_cols[i] for i in self.input_idx])
            self.near_conflict_keys.add(near.filter(in_set) if n_in != n else near, tags)

    def _track_newlines(self, row_key: pa.Array, offset: int) -> None:
        has = pc.match_substring(row_key, "\n")
        if has.true_count:
            cnt = pc.count_substring(row_key, "\n")
            nz = pc.indices_nonzero(cnt)
            for i, c in zip(nz.to_pylist(), cnt.take(nz).to_pylist(), strict=True):
                self.nl_records.append((offset + i, c))
        ex = self.examples
        if len(ex) >= self.opts.max_examples:
            # good rows before the last example: its row number minus the header and
            # the malformed rows before it.
            r_last = ex[self.opts.max_examples - 1][0]
            if offset + len(row_key) >= r_last - 1 - self.opts.max_examples:
                self.nl_tracking = False

    def example_lines(self, header_nl: int, first_row: int = 2) -> list[int]:
        """Physical line numbers of the first malformed rows (CSV row numbers corrected
        for newlines inside quoted values)."""
        self.wait()  # the key thread records the newlines of the last batches
        ex = self.examples[: self.opts.max_examples]
        marks = [m for m, _ in ex]
        # row number of each good row that contained newlines
        good: list[tuple[int, int]] = []
        for g, c in self.nl_records:
            r = g + first_row
            for m in marks:
                if m <= r:
                    r += 1
                else:
                    break
            good.append((r, c))
        out = []
        for k, (r, _nl) in enumerate(ex):
            extra = header_nl + sum(c for gr, c in good if gr < r) + sum(ex[j][1] for j in range(k))
            out.append(r + extra)
        return out


def _min_max(t: str, vals: pa.Array) -> tuple[Any, Any]:
    try:
        if t == "integer":
            mm = pc.min_max(vals.cast(pa.int64()))
        elif t == "number":
            mm = pc.min_max(vals.cast(pa.float64()))
        elif t == "boolean":
            return None, None
        else:
            mm = pc.min_max(vals)
        return mm["min"].as_py(), mm["max"].as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if t == "integer":
            ints = [int(v) for v in vals.to_pylist()]
            return min(ints), max(ints)
        return None, None


class Profiler:
    def __init__(self, schema: dict | None, options: QualityOptions, progress: Progress | None,
                 total_bytes: int | None, filename: str | None):
        self.schema = schema or None
        self.options = options
        self.progress = progress
        self.total_bytes = total_bytes
        self.filename = filename
        s = self.schema or {}
        self.fields: dict[str, dict] = {f["name"]: f for f in s.get("fields", [])}
        pk = s.get("primaryKey")
        self.primary_key: list[str] = [pk] if isinstance(pk, str) else list(pk or [])
        self.label_field: str | None = s.get("labelField")
        self.labels: list[str] | None = s.get("labels")
        self.input_fields: list[str] | None = s.get("inputFields")
        self.personal_data: bool | None = s.get("personalData")
        self.missing_values: list[str] = list(s.get("missingValues", [""]))
        self.warnings: list[str] = []
        self.failures: list[str] = []
        self.findings: list[dict[str, Any]] = []
        self.guard: LineGuard | None = None
        self.format: str | None = None
        self.report: dict[str, Any] = self._skeleton()
        self._last_progress = 0.0

    def _skeleton(self) -> dict[str, Any]:
        return {
            "format": None, "encoding": None, "delimiter": None, "bytes": 0, "header": [],
            "rows": 0, "malformed_rows": 0, "malformed_examples": [], "duplicate_rows": 0, "near_duplicate_rows": 0,
            "columns": [], "labels": None,
            "pii": {"mobile": 0, "email": 0, "resident_id": 0, "bank_card": 0, "by_column": {},
                    "examples": []},
            "formula_injection": 0, "formula_injection_by_column": {}, "sample": [],
            "score": 0, "grade": "E", "score_breakdown": {}, "score_deductions": [],
            "gates": {"passed": False, "failures": []}, "warnings": [], "findings": [],
            "line_endings": None,
        }

    # ---- entry -------------------------------------------------------------------
    def run(self, source: Any) -> dict[str, Any]:
        close = None
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            if not path.is_file():
                raise ValueError(f"no such file: {path}")
            if self.filename is None:
                self.filename = path.name
            if self.total_bytes is None:
                self.total_bytes = path.stat().st_size
            f = close = open(path, "rb")  # noqa: SIM115
        elif hasattr(source, "read"):
            f = source
        else:
            raise ValueError(f"source must be a path or a binary file object, not {type(source).__name__}")
        try:
            return self._run(f)
        except _Refused as exc:
            self.failures.append(str(exc))
            return self._finish(None)
        except LineTooLong as exc:
            findings.add(self, findings.LINE_TOO_LONG, "error", str(exc), line=exc.line, limit_bytes=exc.limit)
            return self._finish(None)
        except Undecodable as exc:
            textinput.undecodable_finding(self, exc)
            return self._finish(None)
        except (OSError, pa.ArrowException, UnicodeError, ValueError, MemoryError) as exc:
            self.failures.append(f"could not read the file: {exc}")
            return self._finish(None)
        finally:
            if close is not None:
                close.close()

    def _run(self, f: Any) -> dict[str, Any]:
        start = None
        try:
            if f.seekable():
                start = f.tell()
        except (AttributeError, OSError, ValueError):
            start = None
        head = _read_exactly(f, HEAD_BYTES)
        kind = detect_format(head)
        if kind not in FORMATS:
            self.report["bytes"] = len(head)
            if kind == "json-array":
                findings.add(self, findings.JSON_ARRAY, "error", refusal_message(head))
                return self._finish(None)
            if kind == "unknown-encoding":
                textinput.first_choice(head, self.total_bytes)  # raises Undecodable (finding, offset)
            raise _Refused(refusal_message(head) or f"unsupported file ({kind})")
        self.report["format"] = self.format = kind
        if kind == "parquet":
            return self._run_parquet(f, head)
        def reread() -> bytes:
            f.seek(start)
            return _read_exactly(f, HEAD_BYTES)

        def restart(**report: Any) -> None:
            self.report = self._skeleton()
            self.report.update(report)
            self.warnings, self.failures, self.findings = [], [], []

        self.restart = restart
        if kind == "jsonl":
            self.jsonl_columns = None
            return textinput.read_with_restarts(self, f, head, start, lambda h, c: self._run_jsonl(f, h, c),
                                                reread=reread, report={"format": kind})
        return textinput.read_with_restarts(self, f, head, start, lambda h, c: self._run_csv_retry(f, h, c, kind, start),
                                            reread=reread, report={"format": kind})

    def _run_csv_retry(self, f: Any, head: bytes, choice: EncodingChoice, kind: str, start: int | None) -> dict[str, Any]:
        block = self.options.block_size
        while True:
            try:
                return self._run_csv(f, head, choice, kind, block)
            except _Straddle:
                if start is None or block >= self.options.row_limit:
                    raise _Refused(
                        f"a row is longer than {block // MiB} MiB; rows up to "
                        f"{self.options.row_limit // MiB} MiB are accepted"
                        + ("" if start is not None else " (the stream cannot be re-read with a larger block)")
                    ) from None
                block = min(block * 20, self.options.row_limit)
                f.seek(start)
                head = _read_exactly(f, HEAD_BYTES)
                self.restart(format=kind, encoding=choice.encoding)

    # ---- CSV / TSV ------------------------------------------------------------------
    def _run_csv(self, f: Any, head: bytes, choice: EncodingChoice, kind: str, block: int) -> dict[str, Any]:
        # the header must be complete in the head (and the head no longer than a line)
        limit = self.options.line_limit
        if b"\n" not in head and b"\r" not in head:
            parts, size = [head], len(head)
            while True:  # chunks kept in a list: no copy of the growing head
                more = _read_exactly(f, HEAD_BYTES)
                if not more:
                    break
                parts.append(more)
                size += len(more)
                if b"\n" in more or b"\r" in more:
                    break
                if size > limit:
                    raise LineTooLong(1, limit)
            head = b"".join(parts)
            del parts
        # the head is decoded only for sniffing (never-decodable bytes are found by the reader)
        text = universal_newlines(codecs.getincrementaldecoder(choice.codec)("replace").decode(head))
        if not text.strip():
            raise _Refused("file is empty")
        plan = plan_csv(text, kind=kind, dialect=self.options.dialect, declared_names=list(self.fields) or None)
        self.report["delimiter"] = plan.delimiter
        self.report["dialect"] = plan.dialect
        for item in plan.findings:
            findings.add_dict(self, item)
        header = plan.names
        if not header:
            raise _Refused("file is empty")
        stream = textinput.open_text(self, head, f, choice, plan.filter)
        state = _State(self, header)
        self._check_header(header)

        def on_invalid(row: pcsv.InvalidRow) -> str:
            state.malformed += 1
            if len(state.examples) < self.options.max_examples:
                state.examples.append((row.number or 0, row.text.count("\n")))
            return "skip"

        read_opts = pcsv.ReadOptions(use_threads=False, block_size=block, encoding="utf8", **plan.read_kwargs)
        parse_opts = pcsv.ParseOptions(**plan.parse_kwargs, newlines_in_values=True,
                                       ignore_empty_lines=False, invalid_row_handler=on_invalid)
        conv_opts = pcsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                        strings_can_be_null=False, quoted_strings_can_be_null=False)
        try:
            try:
                reader = pcsv.open_csv(stream, read_options=read_opts, parse_options=parse_opts,
                                       convert_options=conv_opts)
            except pa.ArrowInvalid as exc:
                if "straddl" in str(exc):
                    raise _Straddle() from exc
                raise _Refused(f"could not parse the header: {exc}") from exc
            found = reader.schema.names
            if found != header:
                header = found
                state.close()
                state = _State(self, header)
            try:
                self._consume(reader, state, stream)
            except pa.ArrowInvalid as exc:
                if "straddl" in str(exc):
                    raise _Straddle() from exc
                self.failures.append(
                    f"could not read the whole file (stopped after {state.rows} rows): {_clean(exc)}")
            self.report["header"] = header
            self.report["bytes"] = stream.bytes_read
            textinput.encoding_findings(self, stream)
            if plan.filter is not None:  # comment lines (read as empty lines) are not blank lines
                comments = plan.filter.comment_lines - plan.skipped_comment_lines
                state.blank_lines = max(0, state.blank_lines - comments)
                plan.dialect["comment_lines"] = plan.filter.comment_lines
            term = line_endings_seen(plan.dialect, self.guard.line_endings if self.guard else None)
            if term is not None:
                findings.add_dict(self, term)
            mal = state.example_lines(0, first_row=plan.skip_lines + 1)
            return self._finish(state, malformed_lines=mal)
        finally:
            state.close()

    def _consume(self, reader: Any, state: _State, stream: Any) -> None:
        """Read batches in a background thread (parsing releases the GIL) and profile them."""
        if not self.options.reader_threads:
            for batch in reader:
                self._one(batch.columns, state, stream)
            return
        q: queue.Queue = queue.Queue(maxsize=1)
        stop = threading.Event()

        def produce() -> None:
            try:
                while not stop.is_set():
                    try:
                        b = reader.read_next_batch()
                    except StopIteration:
                        break
                    q.put(b)
                q.put(_END)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                q.put(exc)

        t = threading.Thread(target=produce, name="quality-reader", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                self._one(item.columns, state, stream)
        finally:
            stop.set()
            while t.is_alive():
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass
            t.join()

    def _one(self, cols: list[pa.Array], state: _State, stream: Any, percent: float | None = None) -> None:
        state.add_batch(cols)
        self._tick(state.rows, stream.bytes_read if stream is not None else 0, percent)

    def _tick(self, rows: int, nbytes: int, percent: float | None = None, final: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not final and now - self._last_progress < 0.2:
            return
        self._last_progress = now
        if percent is None and self.total_bytes:
            percent = min(100.0, 100.0 * nbytes / self.total_bytes)
        self.progress(rows, nbytes, percent)

    def _check_header(self, header: list[str]) -> None:
        seen: set[str] = set()
        dups = []
        for h in header:
            if h in seen and h not in dups:
                dups.append(h)
            seen.add(h)
        if dups:
            self.warnings.append("duplicate column names: " + ", ".join(dups[:20]))
        if self.fields:
            missing = [n for n in self.fields if n not in seen]
            extra = [h for h in header if h not in self.fields]
            if missing:
                findings.add(self, findings.MISSING_COLUMNS, "error",
                             "missing declared columns: " + ", ".join(missing[:50])
                             + (f" (and {len(missing) - 50} more)" if len(missing) > 50 else ""),
                             columns=missing[:50])
            if extra:
                self.warnings.append("extra columns not in the schema: " + ", ".join(extra[:50])
                                     + (f" (and {len(extra) - 50} more)" if len(extra) > 50 else ""))

    # ---- JSON Lines ---------------------------------------------------------------
    def _run_jsonl(self, f: Any, head: bytes, choice: EncodingChoice) -> dict[str, Any]:
        """Columns: the union of keys over the whole file (jsonl.py); a later object with a new
        key makes one scan of the rest for keys, then the file is read again (ReadAgain)."""
        stream = textinput.open_text(self, head, f, choice)
        text = io.TextIOWrapper(io.BufferedReader(stream, 1 * MiB), encoding="utf-8", newline=None)
        columns = self.jsonl_columns  # None until a first read found the union
        state: _State | None = None
        builder: RowBuilder | None = None
        header: list[str] = []
        unseen: set[str] = set()
        buf: list[list[str]] = []
        lines_malformed: list[int] = []
        malformed = 0
        batch_rows = self.options.batch_rows
        lines = enumerate(text, 1)
        try:
            for lineno, line in lines:
                s = line.strip()
                if not s:
                    continue
                try:
                    obj = json.loads(s)
                except ValueError:
                    obj = None
                if not isinstance(obj, dict):
                    malformed += 1
                    if len(lines_malformed) < self.options.max_examples:
                        lines_malformed.append(lineno)
                    continue
                if state is None:
                    # declared columns no object has are columns too (null everywhere); only
                    # those are reported missing
                    header = columns or list(obj) + [n for n in self.fields if n not in obj]
                    unseen = {n for n in self.fields if n not in obj}
                    builder = RowBuilder(header, strict=columns is None)
                    state = _State(self, header)
                if unseen:
                    unseen.difference_update(obj)
                try:
                    buf.append(builder.row(obj))
                except NewKeys:
                    union = KeyUnion()
                    union.keys = dict.fromkeys(k for k in header if k not in unseen or k not in self.fields)
                    union.add(obj)
                    union.scan(rest for _, rest in lines)
                    self.jsonl_columns = union.columns(self.fields)
                    raise textinput.ReadAgain(stream.final or stream.choice,
                                              f"line {lineno} brings keys the first object lacks") from None
                if len(buf) >= batch_rows:
                    self._jsonl_flush(state, buf, stream)
                    buf = []
            if buf:
                self._jsonl_flush(state, buf, stream)
        except BaseException:
            if state is not None:
                state.close()
            raise
        textinput.encoding_findings(self, stream)
        extra = builder.extra if builder is not None else {}
        nested = nested_finding(builder.nested) if builder is not None else None
        if nested is not None:
            findings.add_dict(self, nested)
        self.report["bytes"] = stream.bytes_read
        if state is None:
            state = _State(self, [])
            if not self.failures and malformed == 0:
                raise _Refused("file is empty")
        try:
            state.malformed = malformed
            if header:
                self._check_header([h for h in header if h not in unseen] + list(extra))
            if extra:
                self.warnings.append("keys missing from the first object (ignored): "
                                     + ", ".join(f"{k} ({n} rows)" for k, n in list(extra.items())[:20]))
            self.report["header"] = header
            return self._finish(state, malformed_lines=lines_malformed)
        finally:
            state.close()

    def _jsonl_flush(self, state: _State, buf: list[list[str]], stream: Any) -> None:
        cols = [pa.array(list(c), pa.string()) for c in zip(*buf, strict=True)] if state.n else []
        if cols:
            self._one(cols, state, stream)
        else:
            state.rows += len(buf)

    # ---- Parquet --------------------------------------------------------------------
    def _run_parquet(self, f: Any, head: bytes) -> dict[str, Any]:
        self.report["encoding"] = "binary"
        tmp = None
        try:
            seekable = False
            try:
                seekable = f.seekable()
            except (AttributeError, OSError, ValueError):
                pass
            if seekable:
                f.seek(f.tell() - len(head))
                src = f
            else:
                import tempfile

                tmp = tempfile.NamedTemporaryFile(dir=self.options.spill_dir, suffix=".parquet", delete=False)  # noqa: SIM115
                tmp.write(head)
                while True:
                    data = f.read(8 * MiB)
                    if not data:
                        break
                    tmp.write(data)
                tmp.close()
                src = tmp.name
            try:
                # no pre-buffering of whole row groups, 1 MiB buffered column reads: peak
                # memory follows the batch size, not the row-group size (744 -> 337 MB on
                # the 460 MB benchmark copy, same speed)
                pf = pq.ParquetFile(src, pre_buffer=False, buffer_size=1 << 20)
            except (pa.ArrowException, OSError) as exc:
                raise _Refused(f"not a readable Parquet file: {_clean(exc)}") from exc
            schema = pf.schema_arrow
            header = schema.names
            self._check_header(header)
            for name in header:
                fdesc = self.fields.get(name)
                if fdesc is None:
                    continue
                want = fdesc.get("type", "string")
                have = schema.field(name).type
                if not _parquet_type_ok(want, have):
                    self.warnings.append(f"column {name}: Parquet type {have} but the schema declares {want}")
            total_rows = pf.metadata.num_rows
            nbytes = pf.metadata.serialized_size
            size = self.total_bytes
            if size is None:
                try:
                    size = os.path.getsize(src if isinstance(src, str) else f.name)
                except (OSError, AttributeError, TypeError):
                    size = None
            state = _State(self, header)
            try:
                for batch in pf.iter_batches(batch_size=self.options.batch_rows, use_threads=True):
                    cols = [_to_string(c) for c in batch.columns]
                    state.add_batch(cols)
                    pct = 100.0 * state.rows / total_rows if total_rows else None
                    nbytes = int(size * state.rows / total_rows) if size and total_rows else 0
                    self._tick(state.rows, nbytes, pct)
                self.report["header"] = header
                self.report["bytes"] = size or nbytes
                return self._finish(state, malformed_lines=[])
            finally:
                state.close()
        finally:
            if tmp is not None:
                os.unlink(tmp.name)

    # ---- report ------------------------------------------------------------------------
    def _finish(self, state: _State | None, malformed_lines: list[int] | None = None) -> dict[str, Any]:
        r = self.report
        if state is not None:
            state.wait()
            o = self.options
            r["rows"] = state.rows
            r["malformed_rows"] = state.malformed
            r["malformed_examples"] = malformed_lines or []
            r["blank_lines"] = state.blank_lines
            r["sample"] = state.sample
            finals = state.final_counts()
            distinct_rows = finals["rows"] if state.rows else 0
            r["duplicate_rows"] = state.rows - distinct_rows
            r["near_duplicate_rows"] = (None if state.near_keys is None
                                        else state.rows - finals["near_rows"] if state.rows else 0)
            cols_out = []
            by_col: dict[str, dict[str, int]] = {}
            for ci, c in enumerate(state.cols):
                t = c.type
                lo, hi = c.min, c.max
                if c.declared is None:
                    t = c.candidates[0] if c.candidates and c.smin is not None else "string"
                    if t in ("integer", "number"):
                        lo, hi = c.nmin, c.nmax
                    elif t == "boolean":
                        lo = hi = None
                    else:
                        lo, hi = c.smin, c.smax
                if ci == state.pk_col:
                    distinct, approx = finals["pk"] - len(state.pk_missing), False
                else:
                    distinct, approx = c.distinct.count(), c.distinct.approximate
                cols_out.append({
                    "name": c.name, "type": t, "declared": c.declared is not None,
                    "null_count": c.null, "distinct_count": distinct, "distinct_approximate": approx,
                    "invalid_count": c.invalid, "min": _jsonable(lo), "max": _jsonable(hi),
                    "stats": state.stats.result(ci, t),
                })
                if c.pii:
                    by_col[c.name] = dict(c.pii)
            r["columns"] = cols_out
            p = r["pii"]
            for kind in ("mobile", "email", "resident_id", "bank_card"):
                p[kind] = sum(d.get(kind, 0) for d in by_col.values())
            p["by_column"] = by_col
            p["examples"] = state.pii_examples
            r["formula_injection"] = state.formula
            r["formula_injection_by_column"] = state.formula_by_col
            if state.pk_keys is not None:
                r["primary_key_duplicates"] = state.rows - finals["pk"]
                if r["primary_key_duplicates"]:
                    self.warnings.append(
                        f"{r['primary_key_duplicates']} rows repeat an earlier primary key "
                        f"({', '.join(self.primary_key)})")
            elif self.primary_key:
                r["primary_key_duplicates"] = None
            if state.label_idx is not None:
                r["labels"] = self._label_report(state)
            elif self.label_field:
                r["labels"] = None
            tableschema.report_findings(r, state.checks, self.failures)
            # gates
            if state.rows == 0 and not any(m.startswith("could not read") for m in self.failures):
                self.failures.append("no data rows" + (" (the file has only a header)" if state.n and not state.malformed else ""))
            total = state.rows + state.malformed
            if total and state.malformed / total > o.max_malformed_share:
                self.failures.append(
                    f"{state.malformed} of {total} rows ({100 * state.malformed / total:.2f}%) have the wrong "
                    f"number of fields, more than the {100 * o.max_malformed_share:g}% allowed; first at lines "
                    + ", ".join(str(x) for x in r["malformed_examples"][:5]))
            elif state.malformed:
                self.warnings.append(f"{state.malformed} rows have the wrong number of fields (excluded)")
            found = {k: p[k] for k in ("mobile", "email", "resident_id", "bank_card") if p[k]}
            if found and self.personal_data is False:
                names = {"mobile": "mobile numbers", "email": "e-mail addresses",
                         "resident_id": "resident identity numbers", "bank_card": "bank card numbers"}
                self.failures.append(
                    "personal data found although the schema declares personalData: false: "
                    + ", ".join(f"{n} {names[k]}" for k, n in found.items())
                    + " (columns: " + ", ".join(by_col) + ")")
            elif found and self.personal_data is None:
                self.warnings.append("personal data found; declare personalData in the schema")
            if state.formula:
                self.warnings.append(f"{state.formula} cells start like a spreadsheet formula")
            findings.control_finding(self, state.control_by_col)
            r["control_characters"] = {"cells": sum(state.control_by_col.values()),
                                       "by_column": state.control_by_col}
        if self.guard is not None and self.guard.line_endings is not None:
            r["line_endings"] = le = self.guard.summary()
            if le["kind"] == "mixed" and not any(f["code"] == findings.LINE_ENDINGS_MIXED for f in self.findings):
                findings.add(self, findings.LINE_ENDINGS_MIXED, "warning",
                             f"mixed line endings: {le['lf']} LF, {le['crlf']} CRLF, {le['cr']} CR "
                             "(all read as line breaks)", **{k: le[k] for k in ("lf", "crlf", "cr")})
        r["findings"] = [*self.findings, *r.get("findings", [])]  # reading findings, then constraint findings
        r["warnings"] = list(dict.fromkeys(self.warnings))
        r["gates"] = {"passed": not self.failures, "failures": list(dict.fromkeys(self.failures))}
        score, grade, breakdown = score_report(r, self)
        r["score"], r["grade"], r["score_breakdown"] = score, grade, breakdown
        r["score_deductions"] = score_deductions(r, self, score)
        if state is not None:
            self._tick(r["rows"], r["bytes"], 100.0, final=True)
        return findings.scrub(r)

    def _label_report(self, state: _State) -> dict[str, Any]:
        counts = state.label_counts
        if self.labels is not None:
            dist = {lab: counts.get(lab, 0) for lab in self.labels}
        else:
            dist = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
        nz = [v for v in dist.values() if v]
        ratio = (max(nz) / min(nz)) if nz else None
        finals = state.final_counts() if state.input_idx else {}
        return {"column": self.label_field, "distribution": dist, "outside_set": state.label_outside,
                "missing": state.label_missing, "imbalance_ratio": ratio, "conflicts": finals.get("conflicts", 0),
                "near_conflicts": finals.get("near_conflicts", 0) if self.options.near_duplicates else None,
                "shares": label_shares(dist, state.rows), "outside_share": state.label_outside / state.rows if state.rows else 0.0,
                "missing_share": state.label_missing / state.rows if state.rows else 0.0,
                "input_fields": [state.header[i] for i in state.input_idx]}


def _parquet_type_ok(want: str, have: pa.DataType) -> bool:
    if want in ("string", "any"):
        return True
    if want == "integer":
        return pa.types.is_integer(have)
    if want == "number":
        return pa.types.is_integer(have) or pa.types.is_floating(have) or pa.types.is_decimal(have)
    if want == "boolean":
        return pa.types.is_boolean(have)
    if want == "date":
        return pa.types.is_date(have)
    if want == "datetime":
        return pa.types.is_timestamp(have)
    if want == "time":
        return pa.types.is_time(have)
    return pa.types.is_string(have) or pa.types.is_large_string(have)


def _to_string(c: pa.Array) -> pa.Array:
    t = c.type
    if pa.types.is_string(t):
        out = c
    elif pa.types.is_boolean(t):
        out = pc.if_else(c, "true", "false")
    elif pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        out = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                        for v in c.to_pylist()], pa.string())
    else:
        try:
            out = c.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out = pa.array([None if v is None else str(v) for v in c.to_pylist()], pa.string())
    return out.fill_null("") if out.null_count else out


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, str | int | bool):
        return v
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else str(v)
    return str(v)


def _clean(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


_POOL_CHECKED = False


def _prefer_jemalloc() -> None:
    """Use Arrow's jemalloc pool when the build has it (once per process).

    The default mimalloc pool keeps freed blocks around: the same profile peaks about
    130 MB higher than with jemalloc returning dirty pages after 100 ms, at the same speed.
    """
    global _POOL_CHECKED
    if _POOL_CHECKED:
        return
    _POOL_CHECKED = True
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return  # an explicit choice wins
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(100)  # give freed pages back soon: bounds peak RSS
    except (NotImplementedError, pa.ArrowException, AttributeError):
        return
    pa.set_memory_pool(pool)


def profile(source: Any, schema: dict | None = None, *, options: QualityOptions | None = None,
            progress: Progress | None = None, total_bytes: int | None = None,
            filename: str | None = None) -> dict[str, Any]:
    """Profile a CSV/TSV/JSON Lines/Parquet file; always returns a report dict.

    Raises ValueError only for usage errors (invalid schema, bad source argument).
    """
    if schema is not None:
        errors = validate_table_schema(schema)
        if errors:
            raise ValueError("invalid table schema: " + "; ".join(errors))
    _prefer_jemalloc()
    prof = Profiler(schema, options or QualityOptions(), progress, total_bytes, filename)
    return prof.run(source)
