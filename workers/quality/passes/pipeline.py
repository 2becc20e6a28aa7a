"""The pipeline: one batch of string columns in, every pass fed, threads coordinated.

Per batch (add_batch): blank rows are dropped and the sample taken (here), then the key
thread gets the keys and labels passes, the main thread runs the columns and content
passes, and the distinct thread the distinct and statistics passes. Each helper thread
is a one-thread pool, so its passes see batches in order; up to PIPELINE_DEPTH batches
may wait per thread. pyarrow kernels release the GIL, so the threads overlap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..arrowutil import SEP, buffer_contains
from ..stats import ColumnStatistics
from .columns import ColumnsPass
from .content import ContentPass
from .distinct import DistinctPass
from .keys import KeysPass, partition_count
from .labels import LabelsPass
from .rownumbers import RowNumbers
from .sample import SamplePass

# batches that may wait per helper thread
PIPELINE_DEPTH = 2


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


class Pipeline:
    """All passes over one file with the given header (prof: the running Profiler)."""

    def __init__(self, prof: Any, header: list[str], row_numbers: RowNumbers | None = None):
        o = prof.options
        self.opts = o
        self.header = header
        self.n = len(header)
        self.rows = 0
        self.blank_lines = 0
        self.row_numbers = row_numbers or RowNumbers(o.max_examples)
        self.count_control = prof.format == "jsonl" or (prof.guard is not None and prof.guard.control)
        idx = {h: i for i, h in enumerate(header)}
        pk_idx = [idx[c] for c in prof.primary_key if c in idx] if prof.primary_key else []
        if len(pk_idx) != len(prof.primary_key):
            pk_idx = []  # a declared key column is missing: no key check
        self.pk_idx = pk_idx
        # a one-column primary key: its distinct count comes from the (exact) key store
        self.pk_col = pk_idx[0] if len(pk_idx) == 1 else None
        budget = o.memory_limit_bytes // 16
        parts = partition_count(prof.total_bytes, budget)

        self.sample = SamplePass(header, o.sample_rows)
        self.columns = ColumnsPass(prof, header)
        declared = [c.declared for c in self.columns.cols]
        self.content = ContentPass(header, prof.personal_data, o.max_pii_examples)
        self.keys = KeysPass(o, declared, pk_idx, budget, parts)
        label_idx = idx.get(prof.label_field) if prof.label_field else None
        self.labels = (LabelsPass(o, prof, header, label_idx, pk_idx, self.columns.null_sets[label_idx],
                                  budget, parts) if label_idx is not None else None)
        if self.labels is not None:
            self.keys.want_normalised(self.labels.input_idx)
        self.distinct = DistinctPass(o, self.n, self.pk_col)
        self.stats = ColumnStatistics(declared, max(16, min(o.stats_exact_limit,
                                                            o.memory_limit_bytes // 32 // (16 * max(1, self.n)))))

        threaded = o.reader_threads
        self.key_pool = ThreadPoolExecutor(1, thread_name_prefix="quality-keys") if threaded else None
        self.distinct_pool = ThreadPoolExecutor(1, thread_name_prefix="quality-distinct") if threaded else None
        self.key_futures: deque[Future] = deque()
        self.distinct_futures: deque[Future] = deque()
        self._finals: dict[str, int] | None = None

    # ---- per batch ---------------------------------------------------------------------
    def add_batch(self, cols: list[pa.Array]) -> None:
        prep = self._prepare(cols)
        if prep is None:
            return
        cols, key_cols, raw_key, row_key, n = prep
        if self.count_control:
            self.content.count_control(cols)
        offset = self.rows
        self.rows += n
        if self.key_pool is None:
            self._key_work(cols, key_cols, row_key, n, offset)
        else:
            _submit(self.key_futures, self.key_pool, self._key_work, cols, key_cols, row_key, n, offset)
        self._main_work(cols, raw_key, n, offset)

    def add_blank_rows(self, n: int) -> None:
        """Rows without columns (a JSON Lines file of empty objects): counted, nothing else."""
        self.rows += n

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
        self.sample.add(cols)
        # key separators inside values are escaped in the keys (not in the figures)
        key_cols = cols
        row_key = raw_key
        if ncols > 1 and any(buffer_contains(c, SEP) for c in cols):
            key_cols = list(cols)
            for ci, c in enumerate(cols):
                if pc.any(pc.match_substring(c, SEP)).as_py():
                    col = pc.replace_substring(c, "\\", "\\\\")
                    key_cols[ci] = pc.replace_substring(col, SEP, "\\u")
            row_key = pc.binary_join_element_wise(*key_cols, SEP)
        return cols, key_cols, raw_key, row_key, n

    def _main_work(self, cols: list[pa.Array], raw_key: pa.Array, n: int, offset: int) -> None:
        melt = pa.concat_arrays(cols) if self.n > 1 else cols[0]
        empty = self.columns.empty_mask(cols, melt)
        self.columns.add(cols, empty, n, offset)
        if self.distinct_pool is None:
            self.distinct.add(cols, empty, n)
            self.stats.add(cols, empty, n)
        else:
            _submit(self.distinct_futures, self.distinct_pool, self.distinct.add, cols, empty, n)
            _submit(self.distinct_futures, self.distinct_pool, self.stats.add, cols, empty, n)
        self.content.add(cols, raw_key, melt, n)

    def _key_work(self, cols: list[pa.Array], key_cols: list[pa.Array], row_key: pa.Array, n: int,
                  offset: int) -> None:
        near_cols = self.keys.add(key_cols, row_key)
        self.row_numbers.track(row_key, offset)
        if self.labels is not None:
            self.labels.add(cols, key_cols, n, near_cols)

    # ---- the end -----------------------------------------------------------------------
    def wait(self) -> None:
        """Wait for the helper threads' work on earlier batches."""
        try:
            _drain(self.key_futures)
        finally:
            _drain(self.distinct_futures)

    def final_counts(self) -> dict[str, int]:
        """Exact counts of the key stores, computed once, the stores in parallel."""
        if self._finals is None:
            self.wait()
            jobs = self.keys.final_jobs()
            if self.labels is not None:
                jobs.update(self.labels.final_jobs())
            if self.key_pool is None:
                self._finals = {k: f() for k, f in jobs.items()}
            else:
                # conflicts on one thread, rows then the primary key on the other
                futs = {k: (self.distinct_pool if "conflicts" in k else self.key_pool).submit(f)
                        for k, f in jobs.items()}
                self._finals = {k: f.result() for k, f in futs.items()}
        return self._finals

    def column_results(self) -> list[dict[str, Any]]:
        """The report's `columns` (after final_counts)."""
        from ..arrowutil import jsonable

        finals = self.final_counts()
        out = []
        for ci, c in enumerate(self.columns.cols):
            t, lo, hi = c.final()
            distinct, approx = self.distinct.result(ci, finals.get("pk") if ci == self.pk_col else None)
            out.append({
                "name": c.name, "type": t, "declared": c.declared is not None,
                "null_count": c.null, "distinct_count": distinct, "distinct_approximate": approx,
                "invalid_count": c.invalid, "min": jsonable(lo), "max": jsonable(hi),
                "stats": self.stats.result(ci, t),
            })
        return out

    def close(self) -> None:
        try:
            self.wait()
        except Exception:  # noqa: BLE001 - closing after a failure
            pass
        for pool in (self.key_pool, self.distinct_pool):
            if pool is not None:
                pool.shutdown(wait=True)
        self.key_pool = self.distinct_pool = None
        self.keys.close()
        if self.labels is not None:
            self.labels.close()
        self.columns.close()
