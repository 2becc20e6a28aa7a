"""Write one buyer's fingerprint into a copy of a table.

Each row whose key the selection key picks carries one bit per marked column, drawn
from the contract key: the parity of the last declared decimal of a number, or whether
a text value ends with a space. A cell already holding its bit is left as it is. A
running budget keeps the bound strict: after ``i`` rows at most ``floor(i / γ)`` rows
have changed, so the whole file, and every prefix of it, stays within "1 row in γ".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from .keys import is_selected, row_bits, row_digest_function, threshold
from .plan import FingerprintOptions, Plan, build_plan
from .tables import csv_stats, read_rows, rewrite
from .values import flip, key_part, numeric_with, scaled, text_bit, text_with


@dataclass(frozen=True)
class MarkResult:
    rows: int
    rows_selected: int
    rows_changed: int
    cells_changed: int
    cells_marked: int  # cells holding their bit (changed or already right)
    rows_skipped_for_budget: int


class KeyColumnsMissing(ValueError):
    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__("the file lacks the key column(s) " + ", ".join(missing)
                         + ": rows cannot be matched to their marks")


class RowKeys:
    """Builds row keys for one file's header (any column order, extra columns ignored)."""

    def __init__(self, plan: Plan, header: list[str]):
        pos = {name: i for i, name in enumerate(header)}
        missing = [k for k in plan.key_columns if k not in pos]
        if missing:
            raise KeyColumnsMissing(missing)
        dec = plan.decimals
        self._parts = [(pos[k], dec.get(k)) for k in plan.key_columns]
        self.fn = self._many
        if len(self._parts) == 1:  # a one-column primary key: the common case, kept fast
            (i, d), = self._parts
            self.fn = lambda row: key_part(row[i] if i < len(row) else None, d)

    def _many(self, row: list[Any]) -> str:
        n = len(row)
        return "\x1f".join(key_part(row[i] if i < n else None, d) for i, d in self._parts)

    def __call__(self, row: list[Any]) -> str:
        return self.fn(row)


def plan_file(f: BinaryIO, fmt: str, *, schema: dict | None, options: FingerprintOptions) -> Plan:
    """The plan for an original file (read once; ``f`` is left at its start)."""
    header, rows = read_rows(f, fmt)
    stats = None
    if fmt in ("csv", "tsv"):
        f.seek(0)
        stats = csv_stats(f, fmt, header)
    plan = build_plan(header, rows, schema=schema, options=options, stats=stats)
    f.seek(0)
    return plan


def mark_file(f: BinaryIO, out: BinaryIO, fmt: str, *, plan: Plan, selection: bytes, contract: bytes) -> MarkResult:
    """Copy ``f`` (seekable) to ``out`` with the contract's marks."""
    limit = threshold(plan.rate)
    digest_of = row_digest_function(selection)
    counts = {"rows": 0, "selected": 0, "changed": 0, "cells": 0, "marked": 0, "skipped": 0}
    state: dict[str, Any] = {}

    def edit(header: list[str], row: list[Any]) -> list[Any] | None:
        if state.get("header") is not header:
            pos = {name: i for i, name in enumerate(header)}
            state["header"], state["keys"] = header, RowKeys(plan, header).fn
            state["cols"] = [(j, pos[c.name], c) for j, c in enumerate(plan.columns) if c.name in pos]
        counts["rows"] += 1
        digest = digest_of(state["keys"](row))
        if not is_selected(digest, limit):
            return None
        counts["selected"] += 1
        bits = row_bits(contract, digest)
        new = list(row)
        changed = marked = 0
        for j, i, col in state["cols"]:
            if i >= len(row):
                continue
            want = (bits >> j) & 1
            v = row[i]
            if col.kind == "decimal":
                n = scaled(v, col.decimals)
                if n is None:
                    continue
                marked += 1
                if (n & 1) != want:
                    new[i] = numeric_with(v, col.decimals, flip(n))
                    changed += 1
            else:
                have = text_bit(v)
                if have is None:
                    continue
                marked += 1
                if have != want:
                    new[i] = text_with(v, want)
                    changed += 1
        if not changed:
            counts["marked"] += marked
            return None
        if counts["changed"] + 1 > counts["rows"] // plan.gamma:
            counts["skipped"] += 1  # over the budget: this row stays as it was
            return None
        counts["changed"] += 1
        counts["cells"] += changed
        counts["marked"] += marked
        return new

    rows = rewrite(f, out, fmt, edit)
    return MarkResult(rows=rows, rows_selected=counts["selected"], rows_changed=counts["changed"],
                      cells_changed=counts["cells"], cells_marked=counts["marked"],
                      rows_skipped_for_budget=counts["skipped"])
