"""Write one buyer's fingerprint into a copy of a table.

Each row whose key the selection key picks carries one bit per marked column, drawn
from the contract key: the parity of the last declared decimal of a number, or whether
a text value ends with a space. A cell already holding its bit is left as it is. A
running budget keeps the bound strict: after ``i`` rows at most ``floor(i / γ)`` rows
have changed, so the whole file, and every prefix of it, stays within "1 row in γ".
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any, BinaryIO

from .keys import bits_function, digest_function, is_selected, threshold
from .plan import SCHEME, FingerprintOptions, Plan, build_plan
from .tables import read_rows, rewrite
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


def plan_file(f: BinaryIO, fmt: str, *, schema: dict | None, options: FingerprintOptions,
              scheme: str = SCHEME) -> Plan:
    """The plan for an original file (read once; ``f`` is left at its start)."""
    header, rows = read_rows(f, fmt)
    stats = None
    if fmt in ("csv", "tsv"):
        f.seek(0)
        from .delimited import csv_stats, csv_stats_batch

        stats = csv_stats_batch(f, fmt, header) or csv_stats(f, fmt, header)
    plan = build_plan(header, rows, schema=schema, options=options, stats=stats, scheme=scheme)
    f.seek(0)
    return plan


class Marker:
    """One buyer's marks and the running budget, row by row (``edit``) or for the selected rows a
    batch reader found (``selected``): both give the same rows the same marks."""

    def __init__(self, plan: Plan, selection: bytes, contract: bytes):
        self.plan, self.contract = plan, contract
        self.limit = threshold(plan.rate)
        self.digest_of = digest_function(plan.scheme, selection)
        self.row_bits = bits_function(plan.scheme, contract, max(1, len(plan.columns)))
        self.rows = self.selected_rows = self.changed = self.cells = self.marked = self.skipped = 0
        self._header: list[str] | None = None
        self._keys: Any = None
        self._cols: list[tuple[int, int, Any]] = []

    def bind(self, header: list[str]) -> None:
        """Column positions for this header (raises KeyColumnsMissing)."""
        if self._header is not header:
            pos = {name: i for i, name in enumerate(header)}
            self._keys = RowKeys(self.plan, header).fn
            self._header = header
            self._cols = [(j, pos[c.name], c) for j, c in enumerate(self.plan.columns) if c.name in pos]

    def key(self, row: list[Any]) -> str:
        return self._keys(row)

    def edit(self, header: list[str], row: list[Any]) -> list[Any] | None:
        """tables.rewrite's callback: the marked row, or None to keep it."""
        self.bind(header)
        self.rows += 1
        digest = self.digest_of(self._keys(row))
        if not is_selected(digest, self.limit):
            return None
        return self.selected(self.rows, digest, row)

    def decimal_cells(self) -> tuple[list[int], list[int], list[int]] | None:
        """(bit j, cell position, decimals) of the marked columns in position order, when all of
        them are decimal (batch.marked_cells can then decide rows); None otherwise."""
        if any(col.kind != "decimal" for _, _, col in self._cols):
            return None
        cols = sorted(self._cols, key=lambda c: c[1])
        return [j for j, _, _ in cols], [i for _, i, _ in cols], [c.decimals for _, _, c in cols]

    def selected_digits(self, rowno: int, digest: bytes, bit_of: list[int], have: Any, last: Any) -> list[int]:
        """``selected`` for a row whose marked cells are plain numbers at their declared precision
        (batch.marked_cells): writing a mark toggles the cell's last digit (0<->1 ... 8<->9), which
        is exactly what numeric_with writes there. Returns the positions to toggle ([] for none)."""
        self.selected_rows += 1
        bits = self.row_bits(digest)
        toggles = []
        marked = 0
        for k, j in enumerate(bit_of):
            h = have[k]
            if h < 0:
                continue
            marked += 1
            if h != (bits >> j) & 1:
                toggles.append(int(last[k]))
        if not toggles:
            self.marked += marked
            return toggles
        if self.changed + 1 > rowno // self.plan.gamma:
            self.skipped += 1
            return []
        self.changed += 1
        self.cells += len(toggles)
        self.marked += marked
        return toggles

    def selected(self, rowno: int, digest: bytes, row: list[Any]) -> list[Any] | None:
        """Marks for a selected row, the ``rowno``-th of the file (1-based; the budget allows
        ``rowno // γ`` changed rows up to it)."""
        self.selected_rows += 1
        bits = self.row_bits(digest)
        new = list(row)
        changed = marked = 0
        for j, i, col in self._cols:
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
            self.marked += marked
            return None
        if self.changed + 1 > rowno // self.plan.gamma:
            self.skipped += 1  # over the budget: this row stays as it was
            return None
        self.changed += 1
        self.cells += changed
        self.marked += marked
        return new


def mark_file(f: BinaryIO, out: BinaryIO, fmt: str, *, plan: Plan, selection: bytes, contract: bytes,
              batch: bool = True) -> MarkResult:
    """Copy ``f`` (seekable) to ``out`` with the contract's marks.

    ``batch`` (the default) reads delimited files and Parquet in blocks, hashing every row key
    at once and handling in Python only the rows the selection key picks; ``batch=False`` is the
    row-by-row reference. Both write the same bytes (tests/workers/test_fingerprint_golden.py).
    """
    marker = Marker(plan, selection, contract)
    rows = None
    if batch and fmt in ("csv", "tsv"):
        from .delimited import mark_delimited
        from .fastmark import mark_fast

        rows = mark_fast(f, out, fmt, marker, selection)
        if rows is None:
            f.seek(0)
            rows = mark_delimited(f, out, fmt, marker, selection)
    elif batch and fmt == "parquet":
        from .columnar import mark_parquet

        rows = mark_parquet(f, out, marker, selection)
    if rows is None:  # no batch path for this file: row by row (nothing was written)
        f.seek(0)
        rows = rewrite(f, out, fmt, marker.edit)
    return MarkResult(rows=rows, rows_selected=marker.selected_rows, rows_changed=marker.changed,
                      cells_changed=marker.cells, cells_marked=marker.marked,
                      rows_skipped_for_budget=marker.skipped)


class HashingWriter(io.RawIOBase):
    """Writes through to ``dest`` while hashing: the marked copy's SHA-256 without reading it again."""

    def __init__(self, dest: BinaryIO):
        super().__init__()
        self.dest, self.sha, self.size = dest, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha.update(data)
        n = self.dest.write(data)
        self.size += n
        return n

    def tell(self) -> int:
        return self.size

    def close(self) -> None:  # the marked file outlives the writers that wrote it (Parquet closes its sink)
        if not self.dest.closed:
            self.dest.flush()
