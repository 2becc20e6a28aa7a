"""Columns pass: empty cells, declared-type checks, Table Schema field checks, inference.

Runs on the main thread. Owns per column: null count, invalid count, min/max and, for
undeclared columns, the candidate types still consistent with every value seen.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import tableschema
from ..arrowutil import merge_max, merge_min, min_max
from ..fields import valid_number
from ..schema import FALSE_VALUES, JSON_TYPES, PATTERNS, TRUE_VALUES

# inferred types, most specific first; a column keeps those every value parses as
INFER_ORDER = ("integer", "number", "boolean", "date", "datetime")


class ColumnFigures:
    """What the columns pass knows about one column."""

    __slots__ = ("name", "declared", "type", "null", "invalid", "min", "max", "candidates",
                 "smin", "smax", "nmin", "nmax")

    def __init__(self, name: str, declared: str | None):
        self.name = name
        self.declared = declared
        self.type = declared or "string"
        self.null = 0
        self.invalid = 0
        self.min = self.max = None
        self.smin = self.smax = None  # string min/max for inferred columns
        self.nmin = self.nmax = None  # numeric min/max for inferred columns
        self.candidates = list(INFER_ORDER) if declared is None else []

    def final(self) -> tuple[str, Any, Any]:
        """(type, min, max) as reported: the inferred type for undeclared columns."""
        if self.declared is not None:
            return self.type, self.min, self.max
        t = self.candidates[0] if self.candidates and self.smin is not None else "string"
        if t in ("integer", "number"):
            return t, self.nmin, self.nmax
        if t == "boolean":
            return t, None, None
        return t, self.smin, self.smax


class ColumnsPass:
    def __init__(self, prof: Any, header: list[str]):
        fields = prof.fields
        self.cols = [ColumnFigures(h, fields[h].get("type", "string") if h in fields else None)
                     for h in header]
        # Table Schema: per-column null sets; fields with a format, options or constraints
        # are checked by tableschema (the built-in type check below handles the rest)
        self.null_sets, self.checks = tableschema.prepare(prof, header)
        self.type_groups: dict[str, list[int]] = {}
        for i, c in enumerate(self.cols):
            if c.declared is not None and i not in self.checks:
                self.type_groups.setdefault(c.declared, []).append(i)

    def empty_mask(self, cols: list[pa.Array], melt: pa.Array) -> pa.Array:
        """Null cells of all columns one after another (n rows each)."""
        return tableschema.null_mask_columns(cols, melt, self.null_sets)

    def add(self, cols: list[pa.Array], empty: pa.Array, n: int, offset: int) -> None:
        for i, c in enumerate(self.cols):
            c.null += empty.slice(i * n, n).true_count
        if self.checks:
            tableschema.check_batch(self.checks, self.cols, cols, empty, n, offset)
        for t, idxs in self.type_groups.items():
            self._check_type(t, idxs, cols, empty, n)
        for i, c in enumerate(self.cols):
            if c.declared is None:
                self._infer(c, cols[i], empty.slice(i * n, n))

    def close(self) -> None:
        for chk in self.checks.values():
            chk.close()

    def _check_type(self, t: str, idxs: list[int], cols: list[pa.Array], empty: pa.Array, n: int) -> None:
        if t in ("string", "any"):
            for i in idxs:
                col, c = cols[i], self.cols[i]
                nn = empty.slice(i * n, n)
                vals = col.filter(pc.invert(nn)) if c.null else col
                if len(vals):
                    mm = pc.min_max(vals)
                    c.min = merge_min(c.min, mm["min"].as_py())
                    c.max = merge_max(c.max, mm["max"].as_py())
            return
        sub = pa.concat_arrays([cols[i] for i in idxs]) if len(idxs) > 1 else cols[idxs[0]]
        valid = valid_values(t, sub)
        for j, i in enumerate(idxs):
            c = self.cols[i]
            v = valid.slice(j * n, n)
            e = empty.slice(i * n, n)
            bad = pc.and_(pc.invert(v), pc.invert(e))
            c.invalid += bad.true_count
            good = pc.and_(v, pc.invert(e))
            vals = cols[i].filter(good) if good.true_count != n else cols[i]
            if len(vals):
                lo, hi = min_max(t, vals)
                c.min = merge_min(c.min, lo)
                c.max = merge_max(c.max, hi)

    def _infer(self, c: ColumnFigures, col: pa.Array, e: pa.Array) -> None:
        vals = col.filter(pc.invert(e)) if c.null else col
        if not len(vals):
            return
        mm = pc.min_max(vals)
        c.smin = merge_min(c.smin, mm["min"].as_py())
        c.smax = merge_max(c.smax, mm["max"].as_py())
        keep = []
        for t in c.candidates:
            if valid_values(t, vals).false_count == 0:
                keep.append(t)
                if t in ("integer", "number"):
                    lo, hi = min_max(t, vals)
                    c.nmin = merge_min(c.nmin, lo)
                    c.nmax = merge_max(c.nmax, hi)
                    break  # number follows from integer
        if "integer" in keep:
            keep = ["integer", "number"]
        elif "number" in keep:
            keep = ["number"]
        c.candidates = keep


def valid_values(t: str, arr: pa.Array) -> pa.Array:
    """Per value, whether it parses as the built-in (default-format) Table Schema type t."""
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
