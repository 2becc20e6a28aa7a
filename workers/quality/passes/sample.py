"""Sample pass: the first non-blank rows, as the report's `sample` (main thread).

The rows are stored as read; faces that show them to anyone but the seller and staff
redact them (exchange/selectors/quality.py).
"""

from __future__ import annotations

import pyarrow as pa


class SamplePass:
    def __init__(self, header: list[str], size: int):
        self.header = header
        self.size = size
        self.rows: list[dict[str, str]] = []

    def add(self, cols: list[pa.Array]) -> None:
        if len(self.rows) >= self.size:
            return
        need = self.size - len(self.rows)
        vals = [c.slice(0, need).to_pylist() for c in cols]
        for row in zip(*vals, strict=True):
            self.rows.append(dict(zip(self.header, row, strict=True)))
