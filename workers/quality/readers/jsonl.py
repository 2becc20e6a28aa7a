"""JSON Lines reader: one object per line; the columns are the first object's keys plus
declared fields it lacks. A line that is not a JSON object is a malformed row; keys not
in the columns are reported (and ignored). Values other than strings are written as JSON
text (true/false, numbers, nested values); null and absent keys are empty cells.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from .. import findings
from ..lines import LineGuard
from ..options import MiB
from ..passes.rownumbers import RowNumbers
from . import Refused, Stopped, Stream, python_encoding


def _cell(v: Any, dumps: Any = json.dumps) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    return dumps(v, ensure_ascii=False)


class JsonLinesReader:
    def __init__(self, prof: Any, f: Any, head: bytes, encoding: str):
        self.prof = prof
        self.encoding = encoding
        skip = 3 if encoding == "utf-8-sig" else 0
        prof.guard = LineGuard(prof.options.line_limit)
        self.stream = Stream(head, f, skip, prof.guard)
        self._lines = enumerate(io.TextIOWrapper(io.BufferedReader(self.stream, 1 * MiB),
                                                 encoding=python_encoding(encoding), newline=None), 1)
        self.row_numbers = RowNumbers(prof.options.max_examples)  # only its malformed count
        self.header: list[str] = []
        self.malformed_lines: list[int] = []
        self.unseen: set[str] = set()   # declared fields absent from every object so far
        self.extra: dict[str, int] = {}  # keys outside the columns: rows holding each
        self._first: dict | None = None
        self._decode_error: UnicodeDecodeError | None = None

    @property
    def bytes_read(self) -> int:
        return self.stream.bytes_read

    def progress(self, rows: int) -> tuple[int, float | None]:
        return self.stream.bytes_read, None

    def _objects(self) -> Iterator[dict]:
        max_examples = self.prof.options.max_examples
        for lineno, line in self._lines:
            s = line.strip()
            if not s:
                continue
            try:
                obj = json.loads(s)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                self.row_numbers.malformed += 1
                if len(self.malformed_lines) < max_examples:
                    self.malformed_lines.append(lineno)
                continue
            yield obj

    def open(self) -> list[str]:
        fields = self.prof.fields
        try:
            self._first = next(self._objects(), None)
        except UnicodeDecodeError as exc:
            self._decode_error = exc
        obj = self._first
        if obj is None:
            if self._decode_error is None and self.row_numbers.malformed == 0:
                raise Refused("file is empty", findings.FILE_EMPTY)
            return self.header
        # declared columns the first object lacks are columns too (null where absent);
        # only those absent from every object are missing
        self.header = list(obj) + [n for n in fields if n not in obj]
        self.unseen = {n for n in fields if n not in obj}
        return self.header

    def batches(self) -> Iterator[list[pa.Array] | int]:
        if self._decode_error is not None:
            raise self._stopped(self._decode_error)
        if self._first is None:
            return
        header, hset, extra, unseen = self.header, set(self.header), self.extra, self.unseen
        batch_rows = self.prof.options.batch_rows
        buf: list[list[str]] = []

        def flush() -> list[pa.Array] | int:
            if not header:
                return len(buf)
            return [pa.array(list(c), pa.string()) for c in zip(*buf, strict=True)]

        objects = self._objects()
        try:
            obj: dict | None = self._first
            while obj is not None:
                if unseen:
                    unseen.difference_update(obj)
                for k in obj:
                    if k not in hset:
                        extra[k] = extra.get(k, 0) + 1
                buf.append([_cell(obj.get(h)) for h in header])
                if len(buf) >= batch_rows:
                    yield flush()
                    buf = []
                obj = next(objects, None)
        except UnicodeDecodeError as exc:
            # the rows read before the undecodable text count (text is decoded in chunks of
            # a few KiB: the lines of the chunk holding the bad byte are not among them)
            if buf:
                yield flush()
            raise self._stopped(exc) from exc
        if buf:
            yield flush()

    def _stopped(self, exc: UnicodeDecodeError) -> Stopped:
        return Stopped(f"invalid {self.encoding} text ({exc.reason})")

    def finish(self, pipe: Any) -> list[int]:
        prof = self.prof
        prof.report["bytes"] = self.stream.bytes_read
        if self.header:
            prof.check_header([h for h in self.header if h not in self.unseen] + list(self.extra))
        if self.extra:
            findings.warning(prof, findings.EXTRA_KEYS, "keys missing from the first object (ignored): "
                             + ", ".join(f"{k} ({n} rows)" for k, n in list(self.extra.items())[:20]),
                             keys=dict(list(self.extra.items())[:20]))
        prof.report["header"] = self.header
        return list(self.malformed_lines)
