"""Distinct pass: distinct non-empty values per column (exact, then a sketch past the budget).

Runs on the distinct thread. Owns one DistinctCounter per column and, for a one-column
primary key (whose exact distinct count comes from the key store), the missing-value
tokens that column holds.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..keys import DistinctCounter
from ..options import QualityOptions


class DistinctPass:
    def __init__(self, opts: QualityOptions, ncols: int, pk_col: int | None):
        # sketch size: the distinct budget (an eighth of the memory limit) shared by the columns
        k = max(256, min(opts.distinct_sketch_size, (opts.memory_limit_bytes // 8) // (16 * max(1, ncols))))
        self.counters = [DistinctCounter(opts.distinct_exact_limit, k) for _ in range(ncols)]
        self.budget = opts.memory_limit_bytes // 8
        self.pk_col = pk_col
        self.pk_missing: set[str] = set()

    def add(self, cols: list[pa.Array], empty: pa.Array, n: int) -> None:
        total = 0
        for i, counter in enumerate(self.counters):
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
            counter.add(col)
            total += counter.nbytes
        if total > self.budget:
            for counter in sorted(self.counters, key=lambda c: -c.nbytes):
                if total <= self.budget // 2:
                    break
                if not counter.approximate:
                    total -= counter.nbytes
                    counter.to_sketch()

    def result(self, i: int, pk_distinct: int | None) -> tuple[int, bool]:
        """(distinct count, approximate?) of column i; pk_distinct: the key store's count."""
        if i == self.pk_col and pk_distinct is not None:
            return pk_distinct - len(self.pk_missing), False
        c = self.counters[i]
        return c.count(), c.approximate
