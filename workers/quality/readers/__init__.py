"""Readers: one per format, each turning a binary file into batches of string columns.

A reader is made with the running Profiler (options, report, findings) and the first
HEAD_BYTES of the file, and offers:

    open() -> header       # reads as far as needed to know the columns; may raise Refused
    batches()              # yields lists of pa.string() columns (one per header name), or an
                           # int (rows without any column); raises Stopped when the file
                           # cannot be read to the end (the rows so far still count)
    finish(pipeline)       # after the last batch: header, bytes, malformed rows into the
                           # report; returns the line numbers of the first malformed rows
    row_numbers            # RowNumbers the CSV parser reports malformed rows to
    bytes_read, progress(rows) -> (bytes, percent or None)

Profiler.drive (profiler.py) feeds the batches to the passes (passes/). Formats: csv.py
(CSV and TSV), jsonl.py (JSON Lines), parquet.py; a JSON array is refused (finding
json_array) before any reader is made.
"""

from __future__ import annotations

import io
from typing import Any

from ..lines import LineGuard
from ..options import MiB

HEAD_BYTES = 1 * MiB


class Refused(Exception):
    """The file cannot be profiled; the message says why (a gate failure with `code`)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


class Stopped(Exception):
    """The file could not be read to the end; the rows read so far are reported."""

    def __init__(self, detail: str, with_rows: bool = True):
        super().__init__(detail)
        self.detail = detail
        self.with_rows = with_rows


class Stream(io.RawIOBase):
    """Replays the already-read head, then the rest of the source; counts bytes and feeds
    every byte to the LineGuard (line length, line endings, control bytes)."""

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


def read_exactly(f: Any, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        data = f.read(n - got)
        if not data:
            break
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


def python_encoding(encoding: str) -> str:
    """The codec name a reader decodes the body with (a BOM is skipped, not decoded)."""
    return "gb18030" if encoding == "gb18030" else "utf-8"
