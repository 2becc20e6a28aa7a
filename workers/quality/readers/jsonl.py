"""JSON Lines reader: one object per line; the columns are the union of keys over the whole
file (jsonl.py: a missing key is null; declared fields no object has are columns too, null
everywhere, and reported missing). A line that is not a JSON object is a malformed row.
Values other than strings are written as JSON text (true/false, numbers, nested values,
which are counted: finding nested_values); null and absent keys are empty cells.

The first read takes the first object's keys; when a later object brings a new key, the rest
of the file is scanned for keys and the file is read again with the full union (ReadAgain,
handled by textinput.read_with_restarts).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from .. import findings, textinput
from ..encoding import EncodingChoice
from ..jsonl import KeyUnion, NewKeys, RowBuilder, nested_finding
from ..options import MiB
from ..passes.rownumbers import RowNumbers
from . import Refused


class JsonLinesReader:
    def __init__(self, prof: Any, f: Any, head: bytes, choice: EncodingChoice):
        self.prof = prof
        self.stream = textinput.open_text(prof, head, f, choice)
        self._lines = enumerate(io.TextIOWrapper(io.BufferedReader(self.stream, 1 * MiB),
                                                 encoding="utf-8", newline=None), 1)
        self.row_numbers = RowNumbers(prof.options.max_examples)  # only its malformed count
        self.header: list[str] = []
        self.malformed_lines: list[int] = []
        self.unseen: set[str] = set()   # declared fields absent from every object so far
        self.builder: RowBuilder | None = None
        self._first: dict | None = None
        self._first_line = 0

    @property
    def bytes_read(self) -> int:
        return self.stream.bytes_read

    def progress(self, rows: int) -> tuple[int, float | None]:
        return self.stream.bytes_read, None

    def _objects(self) -> Iterator[tuple[int, dict]]:
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
            yield lineno, obj

    def open(self) -> list[str]:
        fields = self.prof.fields
        self._first_line, self._first = next(self._objects(), (0, None))
        obj = self._first
        if obj is None:
            if self.row_numbers.malformed == 0:
                raise Refused("file is empty", findings.FILE_EMPTY)
            return self.header
        union = getattr(self.prof, "jsonl_columns", None)  # found by an earlier read
        self.header = list(union) if union else list(obj) + [n for n in fields if n not in obj]
        self.unseen = {n for n in fields if n not in obj}
        self.builder = RowBuilder(self.header, strict=not union)
        return self.header

    def batches(self) -> Iterator[list[pa.Array] | int]:
        if self._first is None:
            return
        header, unseen, builder = self.header, self.unseen, self.builder
        batch_rows = self.prof.options.batch_rows
        buf: list[list[str]] = []

        def flush() -> list[pa.Array] | int:
            if not header:
                return len(buf)
            return [pa.array(list(c), pa.string()) for c in zip(*buf, strict=True)]

        objects = self._objects()
        lineno, obj = self._first_line, self._first
        while obj is not None:
            if unseen:
                unseen.difference_update(obj)
            try:
                buf.append(builder.row(obj))
            except NewKeys:
                self._read_again(obj, lineno)
            if len(buf) >= batch_rows:
                yield flush()
                buf = []
            lineno, obj = next(objects, (0, None))
        if buf:
            yield flush()

    def _read_again(self, obj: dict, lineno: int) -> None:
        """A key the columns lack: scan the rest of the file for keys, then read it again."""
        fields = self.prof.fields
        union = KeyUnion()
        union.keys = dict.fromkeys(k for k in self.header if k not in self.unseen or k not in fields)
        union.add(obj)
        union.scan(line for _, line in self._lines)
        self.prof.jsonl_columns = union.columns(fields)
        raise textinput.ReadAgain(self.stream.final or self.stream.choice,
                                  f"line {lineno} holds keys the objects before it lack")

    def finish(self, pipe: Any) -> list[int]:
        prof = self.prof
        prof.report["bytes"] = self.stream.bytes_read
        textinput.encoding_findings(prof, self.stream)
        extra = self.builder.extra if self.builder is not None else {}
        if self.header:
            prof.check_header([h for h in self.header if h not in self.unseen] + list(extra))
        if extra:  # only when a read could not be repeated; the union normally has every key
            findings.warning(prof, findings.EXTRA_KEYS, "keys missing from the first object (ignored): "
                             + ", ".join(f"{k} ({n} rows)" for k, n in list(extra.items())[:20]),
                             keys=dict(list(extra.items())[:20]))
        nested = nested_finding(self.builder.nested) if self.builder is not None else None
        if nested is not None:
            findings.add_dict(prof, nested)
        prof.report["header"] = self.header
        return list(self.malformed_lines)
