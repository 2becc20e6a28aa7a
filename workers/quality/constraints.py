"""Table Schema constraints, checked batch by batch (pure, vectorised, bounded memory).

One FieldCheck per declared field that the profiler's built-in type check cannot handle
exactly (a format, number/boolean options or constraints). Per batch it parses the
column (fields.parse), counts invalid cells and min/max, and counts constraint
violations with the first row numbers. Row numbers count the header as row 1 and
well-formed data rows after it (blank and malformed lines are not numbered).

`unique` keeps each value's canonical text with its row number in a KeyStore (the
duplicate-row store: partitioned by fingerprint, spilled to disk beyond its budget); at
the end keys with a fingerprint of their own are unique without comparing bytes, and
only shared fingerprints are grouped on the full key.

A cell that does not parse as the type is a type error only (its constraints are not
checked); a null cell only fails `required` (as in frictionless).
"""

from __future__ import annotations

import heapq
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .fields import FieldSpec, iso_text, parse, parse_value, value_array
from .keys import KeyStore, fingerprint_counts

ORDER = ("required", "unique", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern")
CODES = {
    "required": "constraint_required", "unique": "constraint_unique", "enum": "constraint_enum",
    "minimum": "constraint_minimum", "maximum": "constraint_maximum",
    "minLength": "constraint_min_length", "maxLength": "constraint_max_length",
    "pattern": "constraint_pattern",
}
ROW_BASE = 2  # the first data row is row 2 (the header is row 1)
PENDING = 2  # unique-key batches that may wait for the store's thread
_IOTA: list[pa.Array] = [pa.array([], pa.int64())]


def _iota(n: int) -> pa.Array:
    """0 … n-1 as int64 (cached: batches mostly have the same length)."""
    if len(_IOTA[0]) < n:
        _IOTA[0] = pc.cumulative_sum(pa.array([1] * (max(n, 2 * len(_IOTA[0]))), pa.int64()))
    return pc.subtract(_IOTA[0].slice(0, n), 1)


class FieldCheck:
    def __init__(self, spec: FieldSpec, *, max_rows: int = 20, spill_dir: str | None = None,
                 unique_budget: int = 16 << 20, threaded: bool = True):
        self.spec = spec
        self.max_rows = max_rows
        self.counts = {k: 0 for k in ORDER if k in spec.constraints and _active(k, spec.constraints[k])}
        self.rows: dict[str, list[int]] = {k: [] for k in self.counts}
        self.invalid = 0
        self.invalid_rows: list[int] = []
        self.min: Any = None
        self.max: Any = None
        c = spec.constraints
        self.bounds = {k: parse_value(spec, c[k]) for k in ("minimum", "maximum") if k in self.counts}
        self.enum = None
        if "enum" in self.counts:
            self.enum = value_array([parse_value(spec, v) for v in c["enum"]])
        self.pattern = f"^(?:{c['pattern']})$" if "pattern" in self.counts else None
        self.store = (KeyStore(spill_dir, unique_budget, f"unique-{spec.name}"[:40], with_tag=True)
                      if "unique" in self.counts else None)
        self._unique_done = False
        # unique keys go to the store on a thread of their own (kernels release the GIL)
        self._pool = (ThreadPoolExecutor(1, thread_name_prefix="quality-unique")
                      if self.store is not None and threaded else None)
        self._pending: deque[Future] = deque()

    # ---- per batch ---------------------------------------------------------------
    def add(self, col: pa.Array, null: pa.Array, offset: int) -> None:
        """One batch: `null` marks null cells, `offset` is the batch's first row index."""
        n = len(col)
        nn = null.true_count
        filled = pc.invert(null) if nn else None
        if "required" in self.counts and nn:
            self._count("required", null, offset)
        vals = col.filter(filled) if nn else col
        if not len(vals):
            return
        ok, value = parse(self.spec, vals)
        pos = pc.indices_nonzero(filled) if nn else None
        if ok.false_count:
            self.invalid += ok.false_count
            if len(self.invalid_rows) < self.max_rows:
                bad = pc.indices_nonzero(pc.invert(ok)).slice(0, self.max_rows)
                self._note(self.invalid_rows, bad if pos is None else pos.take(bad), offset)
            value = value.filter(ok)
            vals = vals.filter(ok)
            pos = pc.indices_nonzero(ok) if pos is None else pos.filter(ok)
        if not len(value):
            return
        if self.spec.type != "boolean":
            mm = pc.min_max(value)
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            self.min = lo if self.min is None or (lo is not None and lo < self.min) else self.min
            self.max = hi if self.max is None or (hi is not None and hi > self.max) else self.max
        if not self.counts:
            return

        def count(name: str, bad: pa.Array) -> None:
            if bad.true_count:
                self._count(name, bad, offset, pos)

        if self.enum is not None:
            count("enum", pc.invert(pc.is_in(value, value_set=self.enum.cast(value.type))))
        if "minimum" in self.bounds:
            count("minimum", pc.less(value, pa.scalar(self.bounds["minimum"]).cast(value.type)))
        if "maximum" in self.bounds:
            count("maximum", pc.greater(value, pa.scalar(self.bounds["maximum"]).cast(value.type)))
        if "minLength" in self.counts or "maxLength" in self.counts:
            length = pc.utf8_length(vals)
            if "minLength" in self.counts:
                count("minLength", pc.less(length, self.spec.constraints["minLength"]))
            if "maxLength" in self.counts:
                count("maxLength", pc.greater(length, self.spec.constraints["maxLength"]))
        if self.pattern is not None:
            count("pattern", pc.invert(pc.match_substring_regex(vals, self.pattern)))
        if self.store is not None:
            rows = pc.add(_iota(n) if pos is None else pos.cast(pa.int64()), offset).cast(pa.int32())
            key = value if pa.types.is_string(value.type) else value.cast(pa.string())
            if self._pool is None:
                self.store.add(key, rows)
            else:
                while len(self._pending) >= PENDING:
                    self._pending.popleft().result()
                self._pending.append(self._pool.submit(self.store.add, key, rows))

    def _count(self, name: str, bad: pa.Array, offset: int, pos: pa.Array | None = None) -> None:
        self.counts[name] += bad.true_count
        lst = self.rows[name]
        if len(lst) < self.max_rows:
            idx = pc.indices_nonzero(bad).slice(0, self.max_rows - len(lst))
            self._note(lst, idx if pos is None else pos.take(idx), offset)

    def _note(self, lst: list[int], idx: pa.Array, offset: int) -> None:
        room = self.max_rows - len(lst)
        lst.extend(offset + ROW_BASE + i for i in idx.to_pylist()[:room])

    # ---- end ---------------------------------------------------------------------
    def finish(self) -> None:
        """Count `unique` violations (rows repeating an earlier value) and their rows."""
        if self.store is None or self._unique_done:
            return
        self._drain()
        self._unique_done = True
        total, first = 0, []
        for t in self.store.tables():
            if not t.num_rows:
                continue
            fp = t.column("f")
            _, shared = fingerprint_counts(fp, self.store.bits)
            if not len(shared):
                continue
            mask = pc.is_in(fp, shared)
            cand = pa.table({"k": t.column("k").filter(mask), "t": t.column("t").filter(mask)})
            g = cand.group_by("k", use_threads=False).aggregate([("t", "min"), ("t", "count")])
            total += (pc.sum(g.column("t_count")).as_py() or 0) - g.num_rows
            multi = g.filter(pc.greater(g.column("t_count"), 1))
            if multi.num_rows:
                firsts = multi.column("t_min").combine_chunks()
                keys = multi.column("k").combine_chunks()
                sub = cand.filter(pc.is_in(cand.column("k"), keys))
                later = sub.column("t").filter(pc.invert(pc.is_in(sub.column("t"), firsts)))
                small = pc.sort_indices(later)[: self.max_rows]
                first = heapq.nsmallest(self.max_rows, first + later.take(small).to_pylist())
        self.counts["unique"] = total
        self.rows["unique"] = [r + ROW_BASE for r in first]
        self.store.close()

    def _drain(self) -> None:
        error = None
        while self._pending:
            try:
                self._pending.popleft().result()
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        if self._pool is not None:
            try:
                self._drain()
            except Exception:  # noqa: BLE001 - closing after a failure
                pass
            self._pool.shutdown(wait=True)
            self._pool = None
        if self.store is not None:
            self.store.close()

    def findings(self) -> list[dict[str, Any]]:
        self.finish()
        out = []
        for name in ORDER:
            if name in self.counts and self.counts[name]:
                out.append({"code": CODES[name], "field": self.spec.name, "constraint": name,
                            "value": self.spec.constraints[name], "count": self.counts[name],
                            "rows": self.rows[name]})
        return out

    @property
    def report_min(self) -> Any:
        return iso_text(self.min)

    @property
    def report_max(self) -> Any:
        return iso_text(self.max)


def _active(name: str, value: Any) -> bool:
    return value is not False if name in ("required", "unique") else True
