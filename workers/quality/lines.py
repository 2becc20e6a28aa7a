"""Streaming checks on the raw bytes, before any parser sees them.

LineGuard watches every byte that passes through the reader: it stops the read as soon as
one physical line is longer than the limit (so a 1 GB file without a line break costs one
read window, not 1 GB of parser buffers), counts line endings (LF, CRLF, CR) and notes
whether raw control bytes occur at all.
"""

from __future__ import annotations

import re

from .options import MiB

_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class LineTooLong(Exception):
    """A physical line is longer than the limit."""

    def __init__(self, line: int, limit: int):
        self.line = line
        self.limit = limit
        super().__init__(f"line {line} is longer than {_mib(limit)} MiB; lines up to {_mib(limit)} MiB are accepted")


def _mib(n: int) -> str:
    return f"{n / MiB:g}" if n >= MiB else f"{n / MiB:.3g}"


class LineGuard:
    def __init__(self, limit: int):
        self.limit = limit
        self.lines = 1          # physical line number of the current line
        self.run = 0            # bytes since the last line break
        self.lf = 0             # bare LF
        self.crlf = 0
        self.cr = 0             # bare CR
        self.control = False    # a raw control byte was seen
        self._cr_pending = False

    def feed(self, data: bytes | memoryview) -> None:
        if not data:
            return
        b = bytes(data) if isinstance(data, memoryview) else data
        nl = b.count(b"\n")
        cr = b.count(b"\r")
        if self._cr_pending:
            self._cr_pending = False
            if b[:1] == b"\n":  # CRLF cut between two reads: the CR was counted as bare
                self.cr -= 1
                self.crlf += 1
                nl -= 1  # this LF ends the line the CR already ended
        crlf = b.count(b"\r\n")
        self.crlf += crlf
        self.lf += nl - crlf
        self.cr += cr - crlf
        if b.endswith(b"\r"):
            self._cr_pending = True
        breaks = (nl - crlf) + cr
        if not self.control and _RAW_CONTROL.search(b):
            self.control = True
        if breaks == 0:
            self.run += len(b)
            if self.run > self.limit:
                raise LineTooLong(self.lines, self.limit)
            return
        # longest run inside this chunk: only needed when the chunk is longer than the limit
        first = _first_break(b)
        if self.run + first > self.limit:
            raise LineTooLong(self.lines, self.limit)
        if len(b) > self.limit:
            self._scan(b)
        self.lines += breaks
        self.run = len(b) - 1 - _last_break(b)

    def _scan(self, b: bytes) -> None:
        start, line = 0, self.lines
        for m in re.finditer(rb"\r\n|\r|\n", b):
            if m.start() - start > self.limit:
                raise LineTooLong(line, self.limit)
            start = m.end()
            line += 1

    @property
    def line_endings(self) -> str | None:
        kinds = [k for k, n in (("LF", self.lf), ("CRLF", self.crlf), ("CR", self.cr)) if n]
        if not kinds:
            return None
        return kinds[0] if len(kinds) == 1 else "mixed"

    def summary(self) -> dict:
        return {"kind": self.line_endings, "lf": self.lf, "crlf": self.crlf, "cr": self.cr}


def _first_break(b: bytes) -> int:
    i, j = b.find(b"\n"), b.find(b"\r")
    return min(x for x in (i, j) if x >= 0)


def _last_break(b: bytes) -> int:
    return max(b.rfind(b"\n"), b.rfind(b"\r"))
