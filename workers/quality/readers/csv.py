"""CSV and TSV reader: delimiter sniffed from the head (tab for .tsv content), the header
read with Python's csv module, the body parsed by pyarrow in blocks on a reader thread.

A row longer than the block makes pyarrow refuse the block ("straddling"); the caller
(read_with_retry) then starts again with a larger block, up to QualityOptions.row_limit.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv

from .. import findings
from ..arrowutil import clean
from ..detect import decode_head, sniff_delimiter
from ..lines import LineGuard, LineTooLong, universal_newlines
from ..options import MiB
from ..passes.rownumbers import RowNumbers
from . import HEAD_BYTES, Refused, Stopped, Stream, read_exactly

_END = object()


class Straddle(Exception):
    """A row is longer than the current block size."""


def _is_straddle(exc: pa.ArrowInvalid) -> bool:
    # pyarrow has no error code for it: its message is the only signal
    return "straddl" in str(exc)


@dataclass(frozen=True)
class Dialect:
    """How the CSV text is split: today the sniffed (or TSV) delimiter and RFC 4180 quoting;
    the place for a declared Frictionless CSV Dialect."""

    delimiter: str = ","
    quote_char: str = '"'
    double_quote: bool = True

    def parse_options(self, on_invalid: Any) -> pcsv.ParseOptions:
        return pcsv.ParseOptions(delimiter=self.delimiter, quote_char=self.quote_char,
                                 double_quote=self.double_quote, newlines_in_values=True,
                                 ignore_empty_lines=False, invalid_row_handler=on_invalid)


def _header(text: str, dialect: Dialect) -> list[str]:
    """The header row, read from the decoded head with Python's csv module."""
    first = text.split("\n", 1)[0] if "\n" in text else text
    try:
        return next(csv.reader(io.StringIO(text if dialect.quote_char in first else first + "\n"),
                               delimiter=dialect.delimiter, quotechar=dialect.quote_char,
                               doublequote=dialect.double_quote))
    except (StopIteration, csv.Error):
        return []


class CsvReader:
    def __init__(self, prof: Any, f: Any, head: bytes, encoding: str, kind: str, block: int):
        self.prof = prof
        self.f = f
        self.head = head
        self.encoding = encoding
        self.kind = kind
        self.block = block
        self.row_numbers = RowNumbers(prof.options.max_examples)
        self.header: list[str] = []
        self.header_nl = 0
        self.stream: Stream | None = None
        self.dialect = Dialect()
        self._reader: Any = None

    @property
    def bytes_read(self) -> int:
        return self.stream.bytes_read if self.stream is not None else 0

    def progress(self, rows: int) -> tuple[int, float | None]:
        return self.bytes_read, None

    def open(self) -> list[str]:
        prof = self.prof
        skip = 3 if self.encoding == "utf-8-sig" else 0
        head = self._complete_first_line(skip)
        pyenc = "gb18030" if self.encoding == "gb18030" else "utf8"
        text = universal_newlines(decode_head(head[skip:], pyenc if pyenc != "utf8" else "utf-8") or "")
        dialect = self.dialect = Dialect(delimiter="\t" if self.kind == "tsv" else sniff_delimiter(text))
        prof.report["delimiter"] = dialect.delimiter
        header = _header(text, dialect)
        if not header or header == [""] and not text.strip():
            raise Refused("file is empty", findings.FILE_EMPTY)
        self.header_nl = sum(h.count("\n") for h in header)
        prof.guard = LineGuard(prof.options.line_limit)
        self.stream = Stream(head, self.f, skip, prof.guard)
        prof.check_header(header)
        rownum = self.row_numbers

        def on_invalid(row: pcsv.InvalidRow) -> str:
            rownum.note_invalid(row.number or 0, row.text)
            return "skip"

        read_opts = pcsv.ReadOptions(use_threads=False, block_size=self.block, encoding=pyenc)
        conv_opts = pcsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                        strings_can_be_null=False, quoted_strings_can_be_null=False)
        try:
            self._reader = pcsv.open_csv(self.stream, read_options=read_opts,
                                         parse_options=dialect.parse_options(on_invalid), convert_options=conv_opts)
        except pa.ArrowInvalid as exc:
            if _is_straddle(exc):
                raise Straddle() from exc
            raise Refused(f"could not parse the header: {exc}", findings.HEADER_UNREADABLE) from exc
        self.header = self._reader.schema.names
        return self.header

    def _complete_first_line(self, skip: int) -> bytes:
        """The head, read further until it holds a line break (the header must be complete
        in it); a first line longer than the line limit ends the check."""
        head = self.head
        if b"\n" in head[skip:] or b"\r" in head[skip:]:
            return head
        limit = self.prof.options.line_limit
        parts, size = [head], len(head)
        while True:  # chunks kept in a list: no copy of the growing head
            more = read_exactly(self.f, HEAD_BYTES)
            if not more:
                break
            parts.append(more)
            size += len(more)
            if b"\n" in more or b"\r" in more:
                break
            if size - skip > limit:
                raise LineTooLong(1, limit)
        return b"".join(parts)

    def batches(self) -> Iterator[list[pa.Array]]:
        try:
            yield from self._batches()
        except pa.ArrowInvalid as exc:
            if _is_straddle(exc):
                raise Straddle() from exc
            raise Stopped(clean(exc)) from exc

    def _batches(self) -> Iterator[list[pa.Array]]:
        """Batches parsed on a reader thread (parsing releases the GIL), one ahead."""
        reader = self._reader
        if not self.prof.options.reader_threads:
            for batch in reader:
                yield batch.columns
            return
        q: queue.Queue = queue.Queue(maxsize=1)
        stop = threading.Event()

        def produce() -> None:
            try:
                while not stop.is_set():
                    try:
                        b = reader.read_next_batch()
                    except StopIteration:
                        break
                    q.put(b)
                q.put(_END)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                q.put(exc)

        t = threading.Thread(target=produce, name="quality-reader", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item.columns
        finally:
            stop.set()
            while t.is_alive():
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass
            t.join()

    def finish(self, pipe: Any) -> list[int]:
        self.prof.report["header"] = self.header
        self.prof.report["bytes"] = self.bytes_read
        pipe.wait()  # the key thread records the newlines of the last batches
        return self.row_numbers.lines(self.header_nl)


def read_with_retry(prof: Any, f: Any, head: bytes, encoding: str, kind: str,
                    start: int | None) -> dict[str, Any]:
    """Profile a CSV/TSV file, growing the block while a row does not fit in it (the
    source is re-read from `start`; a stream that cannot seek is refused instead)."""
    block = prof.options.block_size
    while True:
        try:
            return prof.drive(CsvReader(prof, f, head, encoding, kind, block))
        except Straddle:
            if start is None or block >= prof.options.row_limit:
                raise Refused(
                    f"a row is longer than {block // MiB} MiB; rows up to "
                    f"{prof.options.row_limit // MiB} MiB are accepted"
                    + ("" if start is not None else " (the stream cannot be re-read with a larger block)"),
                    findings.ROW_TOO_LONG) from None
            block = min(block * 20, prof.options.row_limit)
            f.seek(start)
            head = read_exactly(f, HEAD_BYTES)
            prof.restart(format=kind, encoding=encoding)
