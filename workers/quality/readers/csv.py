"""CSV and TSV reader: how to read it is planned on the decoded head (csvplan.py: declared
dialect vs sniffed delimiter, header and metadata rows, column names); the body is decoded
strictly while streaming (textinput.py) and parsed by pyarrow in blocks on a reader thread.

A row longer than the block makes pyarrow refuse the block ("straddling"); the caller
(read_with_retry) then starts again with a larger block, up to QualityOptions.row_limit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv

from .. import findings, textinput
from ..arrowutil import clean
from ..csvplan import CsvPlan, line_endings_seen, plan_from_head
from ..encoding import EncodingChoice
from ..lines import LineTooLong
from ..options import MiB
from ..passes.rownumbers import RowNumbers
from . import HEAD_BYTES, Refused, Stopped, read_exactly

_END = object()


class Straddle(Exception):
    """A row is longer than the current block size."""


def _is_straddle(exc: pa.ArrowInvalid) -> bool:
    # pyarrow has no error code for it: its message is the only signal
    return "straddl" in str(exc)


class CsvReader:
    def __init__(self, prof: Any, f: Any, head: bytes, choice: EncodingChoice, kind: str, block: int):
        self.prof = prof
        self.f = f
        self.head = head
        self.choice = choice
        self.kind = kind
        self.block = block
        self.row_numbers = RowNumbers(prof.options.max_examples)
        self.header: list[str] = []
        self.plan: CsvPlan | None = None
        self.stream: Any = None  # decoding.DecodingReader
        self._reader: Any = None

    @property
    def bytes_read(self) -> int:
        return self.stream.bytes_read if self.stream is not None else 0

    def progress(self, rows: int) -> tuple[int, float | None]:
        return self.bytes_read, None

    def open(self) -> list[str]:
        prof, f, head = self.prof, self.f, self.head
        # the header must be complete in the head (and the head no longer than a line)
        limit = prof.options.line_limit
        whole = len(head) < HEAD_BYTES  # the head is the whole file
        if b"\n" not in head and b"\r" not in head:
            parts, size = [head], len(head)
            while True:  # chunks kept in a list: no copy of the growing head
                more = read_exactly(f, HEAD_BYTES)
                whole = len(more) < HEAD_BYTES
                if not more:
                    break
                parts.append(more)
                size += len(more)
                if b"\n" in more or b"\r" in more:
                    break
                if size > limit:
                    raise LineTooLong(1, limit)
            head = b"".join(parts)
            del parts
        # decoded only to plan the reading: a byte that does not decode is the stream's to find
        plan = self.plan = plan_from_head(head, self.choice.codec, kind=self.kind, dialect=prof.options.dialect,
                                          declared_names=list(prof.fields) or None)
        if not plan.names:  # nothing but whitespace
            raise Refused("file is empty", findings.FILE_EMPTY)
        prof.report["delimiter"] = plan.delimiter
        prof.report["dialect"] = plan.dialect
        for item in plan.findings:
            findings.add_dict(prof, item)
        header = plan.names
        if not header:
            raise Refused("file is empty", findings.FILE_EMPTY)
        self.stream = textinput.open_text(prof, head, f, self.choice, plan.filter)
        prof.check_header(header)
        rownum = self.row_numbers

        def on_invalid(row: pcsv.InvalidRow) -> str:
            rownum.note_invalid(row.number or 0, row.text)
            return "skip"

        # pyarrow reads UTF-8 (the stream decodes); the plan names the columns and says how
        # many physical lines come before the data
        read_opts = pcsv.ReadOptions(use_threads=False, block_size=self.block, encoding="utf8", **plan.read_kwargs)
        parse_opts = pcsv.ParseOptions(**plan.parse_kwargs, newlines_in_values=True,
                                       ignore_empty_lines=False, invalid_row_handler=on_invalid)
        conv_opts = pcsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                        strings_can_be_null=False, quoted_strings_can_be_null=False)
        try:
            self._reader = pcsv.open_csv(self.stream, read_options=read_opts, parse_options=parse_opts,
                                         convert_options=conv_opts)
        except pa.ArrowInvalid as exc:
            if _is_straddle(exc):
                raise Straddle() from exc
            if "skip initial" in str(exc):
                if not whole:  # the lines before the data do not fit in one block
                    raise Straddle() from exc
                self.header = header  # nothing after the header: no data rows
                return self.header
            raise Refused(f"could not parse the header: {exc}", findings.HEADER_UNREADABLE) from exc
        self.header = self._reader.schema.names
        return self.header

    def batches(self) -> Iterator[list[pa.Array]]:
        if self._reader is None:
            return
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

    def close(self) -> None:
        """End this attempt's stream (Profiler.drive calls it on every exit): a retry with a
        larger block or another encoding seeks the source next, and pyarrow's read-ahead must not
        read it then."""
        if self.stream is not None:
            self.stream.end()

    def finish(self, pipe: Any) -> list[int]:
        prof, plan = self.prof, self.plan
        prof.report["header"] = self.header
        prof.report["bytes"] = self.bytes_read
        pipe.wait()  # the key thread records the newlines of the last batches
        textinput.encoding_findings(prof, self.stream)
        if plan.filter is not None:  # comment lines (read as empty lines) are not blank lines
            pipe.blank_lines = max(0, pipe.blank_lines - (plan.filter.comment_lines - plan.skipped_comment_lines))
            plan.dialect["comment_lines"] = plan.filter.comment_lines
        term = line_endings_seen(plan.dialect, prof.guard.line_endings if prof.guard is not None else None)
        if term is not None:
            findings.add_dict(prof, term)
        return self.row_numbers.lines(0, first_row=plan.skip_lines + 1)


def read_with_retry(prof: Any, f: Any, head: bytes, choice: EncodingChoice, kind: str,
                    start: int | None) -> dict[str, Any]:
    """Profile a CSV/TSV file, growing the block while a row does not fit in it (the
    source is re-read from `start`; a stream that cannot seek is refused instead)."""
    block = prof.options.block_size
    while True:
        try:
            return prof.drive(CsvReader(prof, f, head, choice, kind, block))
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
            prof.restart(format=kind, encoding=choice.encoding)
