"""Read and rewrite tables as rows of cells: CSV, TSV, JSON Lines, Parquet.

Readers yield ``(header, rows)`` with ``rows`` an iterator of lists aligned with the
header (CSV/TSV cells are strings, JSON Lines and Parquet cells keep their types).
Writers keep the file's own conventions where they carry no meaning to lose: the
delimiter, the line terminator and a UTF-8 BOM of delimited files; untouched JSON Lines
are copied byte for byte; Parquet keeps its schema and compression.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from workers.quality.detect import detect_format, sniff_encoding

FORMATS = ("csv", "tsv", "jsonl", "parquet")
PARQUET_BATCH = 16384  # rows per Parquet batch: a few MB of Python objects at most
HEAD_BYTES = 1 << 16

csv.field_size_limit(min(sys.maxsize, 1 << 31))  # long transcripts are single cells


class TableError(ValueError):
    """The file cannot be read as a table of the stated format."""


@dataclass(frozen=True)
class Layout:
    """How a delimited file was written, so its rewrite looks the same."""

    delimiter: str
    newline: str
    bom: bool
    encoding: str = "utf-8"  # or "gb18030", the other encoding the exchange accepts


def sniff_format(head: bytes, name: str = "") -> str:
    lower = name.lower()
    for ext, fmt in ((".parquet", "parquet"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                     (".tsv", "tsv"), (".tab", "tsv"), (".csv", "csv")):
        if lower.endswith(ext):
            return fmt
    fmt = detect_format(head)
    if fmt not in FORMATS:
        raise TableError(f"cannot read this file as a table (detected {fmt!r}); "
                         "give a CSV, TSV, JSON Lines or Parquet file")
    return fmt


def _encoding(head: bytes) -> str:
    enc, problem = sniff_encoding(head) if head else ("utf-8", "")
    if enc is None:
        raise TableError(problem)
    return "gb18030" if enc == "gb18030" else "utf-8"


def _layout(head: bytes, fmt: str) -> Layout:
    first = head.split(b"\n", 1)[0]
    return Layout(delimiter="\t" if fmt == "tsv" else ",",
                  newline="\r\n" if first.endswith(b"\r") else "\n",
                  bom=head.startswith(b"\xef\xbb\xbf"), encoding=_encoding(head))


class _Shield(io.BufferedIOBase):
    """Lets a TextIOWrapper read ``f`` without closing it when the wrapper is dropped."""

    def __init__(self, f: BinaryIO):
        super().__init__()
        self._f = f

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        return self._f.read(n)

    def read1(self, n: int = -1) -> bytes:
        read1 = getattr(self._f, "read1", None)
        return read1(n) if read1 is not None else self._f.read(n if n and n > 0 else 1 << 16)

    def readinto(self, b: Any) -> int:
        return self._f.readinto(b)


def _text(f: BinaryIO, encoding: str = "utf-8") -> io.TextIOWrapper:
    return io.TextIOWrapper(_Shield(f), encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="")


def read_rows(f: BinaryIO, fmt: str) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of a table file (``f`` is a binary stream, seekable for Parquet)."""
    if fmt in ("csv", "tsv"):
        head = f.read(HEAD_BYTES)
        f.seek(0)
        layout = _layout(head, fmt)
        text = _text(f, layout.encoding)
        reader = csv.reader(text, delimiter=layout.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise TableError("the file is empty") from None
        except csv.Error as exc:
            raise TableError(f"unreadable {fmt.upper()} header: {exc}") from None
        return header, _csv_rows(reader, fmt)
    if fmt == "jsonl":
        return _jsonl_rows(f)
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(f)
        except (pa.ArrowException, OSError) as exc:
            raise TableError(f"unreadable Parquet file: {exc}") from None
        return list(pf.schema_arrow.names), _parquet_rows(pf)
    raise TableError(f"unsupported format {fmt!r}")


def _csv_rows(reader: Any, fmt: str) -> Iterator[list[Any]]:
    try:
        yield from reader
    except (csv.Error, UnicodeDecodeError) as exc:
        raise TableError(f"unreadable {fmt.upper()} at line {reader.line_num}: {exc}") from None


def _jsonl_encoding(f: BinaryIO) -> str:
    head = f.read(HEAD_BYTES)
    f.seek(0)
    return _encoding(head)


def _jsonl_objects(f: BinaryIO, encoding: str = "utf-8") -> Iterator[tuple[bytes, dict | None]]:
    for n, line in enumerate(f, 1):
        body = line.strip()
        if not body:
            yield line, None
            continue
        if n == 1 and body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        try:
            obj = json.loads(body if encoding == "utf-8" else body.decode(encoding))
        except ValueError as exc:
            raise TableError(f"line {n} is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise TableError(f"line {n} is not a JSON object")
        yield line, obj


def _jsonl_rows(f: BinaryIO) -> tuple[list[str], Iterator[list[Any]]]:
    objects = (obj for _, obj in _jsonl_objects(f, _jsonl_encoding(f)) if obj is not None)
    first = next(objects, None)
    if first is None:
        raise TableError("the file holds no JSON object")
    header = list(first)

    def rows() -> Iterator[list[Any]]:
        yield [first.get(k) for k in header]
        for obj in objects:
            yield [obj.get(k) for k in header]
    return header, rows()


def _parquet_rows(pf: pq.ParquetFile) -> Iterator[list[Any]]:
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH):
        cols = [c.to_pylist() for c in batch.columns]
        yield from (list(r) for r in zip(*cols, strict=True))


# --- Rewriting -----------------------------------------------------------------------
# ``edit(header, row) -> row | None``: a new list of cells for a changed row, None to keep it.
Edit = Callable[[list[str], list[Any]], "list[Any] | None"]


def rewrite(f: BinaryIO, out: BinaryIO, fmt: str, edit: Edit) -> int:
    """Copy table ``f`` to ``out``, with every row passed through ``edit``; returns rows."""
    if fmt in ("csv", "tsv"):
        return _rewrite_csv(f, out, fmt, edit)
    if fmt == "jsonl":
        return _rewrite_jsonl(f, out, edit)
    if fmt == "parquet":
        return _rewrite_parquet(f, out, edit)
    raise TableError(f"unsupported format {fmt!r}")


class _Capture:
    """Line iterator for csv.reader that keeps the raw text of the record being read."""

    __slots__ = ("_it", "raw")

    def __init__(self, lines: Iterator[str]):
        self._it, self.raw = lines, []

    def __iter__(self) -> _Capture:
        return self

    def __next__(self) -> str:
        line = next(self._it)
        self.raw.append(line)
        return line


def _rewrite_csv(f: BinaryIO, out: BinaryIO, fmt: str, edit: Edit) -> int:
    """Rows ``edit`` leaves alone are copied as their original text, byte for byte; a changed
    row is re-quoted minimally with the file's delimiter and its own line ending."""
    head = f.read(HEAD_BYTES)
    f.seek(0)
    layout = _layout(head, fmt)
    if layout.bom:
        out.write(b"\xef\xbb\xbf")
    count, header = copy_records(iter(_text(f, layout.encoding)), out, fmt, layout, edit, None)
    if header is None:
        raise TableError("the file is empty")
    return count


def copy_records(text_lines: Iterator[str], out: BinaryIO, fmt: str, layout: Layout, edit: Edit,
                 header: list[str] | None, first_line: int = 0) -> tuple[int, list[str] | None]:
    """The row-by-row copy of delimited records read from ``text_lines`` (the header first when
    ``header`` is None); returns the rows copied and the header. The batch marker hands over to
    this at a record of several lines."""
    lines = _Capture(text_lines)
    reader = csv.reader(lines, delimiter=layout.delimiter)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=layout.delimiter, lineterminator="")
    pending: list[str] = []
    count = 0
    try:
        for row in reader:
            raw = "".join(lines.raw)
            lines.raw.clear()
            if header is None:
                header = row
                pending.append(raw)
                continue
            new = edit(header, row)
            if new is not None:
                pending.append(requote(writer, buf, new, raw))
            else:
                pending.append(raw)
            count += 1
            if len(pending) >= 4096:
                out.write("".join(pending).encode(layout.encoding))
                pending.clear()
    except (csv.Error, UnicodeDecodeError) as exc:
        raise TableError(f"unreadable {fmt.upper()} at line {first_line + reader.line_num}: {exc}") from None
    out.write("".join(pending).encode(layout.encoding))
    return count, header


def requote(writer: Any, buf: io.StringIO, row: list[Any], raw: str) -> str:
    """A changed record, quoted minimally, with the line ending of its original text ``raw``."""
    buf.seek(0)
    buf.truncate()
    writer.writerow(row)
    body = raw.rstrip("\r\n")
    return buf.getvalue() + raw[len(body):]


def _rewrite_jsonl(f: BinaryIO, out: BinaryIO, edit: Edit) -> int:
    count = 0
    header: list[str] | None = None
    encoding = _jsonl_encoding(f)
    for line, obj in _jsonl_objects(f, encoding):
        if obj is None:
            out.write(line)
            continue
        if header is None:
            header = list(obj)
        keys = header if all(k in obj for k in header) and len(obj) == len(header) else list(obj)
        new = edit(keys, [obj.get(k) for k in keys])
        count += 1
        if new is None:
            out.write(line)
            continue
        obj.update(zip(keys, new, strict=True))
        compact = b'":' in line and b'": ' not in line
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":") if compact else None)
        out.write(body.encode(encoding) + (b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""))
    return count


def _rewrite_parquet(f: BinaryIO, out: BinaryIO, edit: Edit) -> int:
    pf = pq.ParquetFile(f)
    schema = pf.schema_arrow
    md = pf.metadata
    codec = "snappy"
    if md.num_row_groups and md.num_columns:
        codec = md.row_group(0).column(0).compression.lower()
        codec = "none" if codec == "uncompressed" else codec
    header = list(schema.names)
    count = 0
    with pq.ParquetWriter(out, schema, compression=codec) as writer:
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH):
            cols = [c.to_pylist() for c in batch.columns]
            changed = False
            for i, row in enumerate(zip(*cols, strict=True)):
                new = edit(header, list(row))
                if new is not None:
                    changed = True
                    for j, v in enumerate(new):
                        cols[j][i] = v
            count += batch.num_rows
            if changed:
                batch = pa.record_batch([pa.array(c, type=schema.field(j).type) for j, c in enumerate(cols)],
                                        schema=schema)
            writer.write_batch(batch)
    return count


def read_columns(f: BinaryIO, fmt: str, wanted: list[str]) -> tuple[list[str], Iterator[list[Any]]]:
    """Like ``read_rows`` but only the ``wanted`` columns the file has, read by pyarrow in
    batches for CSV, TSV and Parquet (JSON Lines: row by row). ``f`` must be seekable."""
    batches = read_column_batches(f, fmt, wanted)
    if batches is None:
        f.seek(0)
        return read_rows(f, fmt)
    present, it = batches

    def rows() -> Iterator[list[Any]]:
        for batch in it:
            yield from (list(r) for r in zip(*(c.to_pylist() for c in batch.columns), strict=True))
    return present, rows()


def read_column_batches(f: BinaryIO, fmt: str, wanted: list[str]) -> tuple[list[str], Iterator[Any]] | None:
    """The ``wanted`` columns the file has, as pyarrow record batches (CSV and TSV cells as
    strings); None for JSON Lines and for delimited files with repeated column names."""
    header, _ = read_rows(f, fmt)
    if fmt == "jsonl":
        return None
    present = [n for n in dict.fromkeys(wanted) if n in header]
    if fmt == "parquet":
        pf = pq.ParquetFile(f)
        return present, pf.iter_batches(batch_size=PARQUET_BATCH * 4, columns=present)
    if len(set(header)) != len(header):
        return None  # duplicate column names: pyarrow cannot name them apart
    import pyarrow.csv as pcsv

    f.seek(0)
    head = f.read(HEAD_BYTES)
    f.seek(0)
    try:
        reader = pcsv.open_csv(
            f, read_options=pcsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 20,
                                              encoding="utf8" if _encoding(head) == "utf-8" else "gb18030"),
            parse_options=pcsv.ParseOptions(delimiter=_layout(head, fmt).delimiter, newlines_in_values=True,
                                            invalid_row_handler=lambda _row: "skip"),
            convert_options=pcsv.ConvertOptions(include_columns=present,
                                                column_types={n: pa.string() for n in present},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise TableError(f"unreadable {fmt.upper()}: {exc}") from None

    def csv_batches() -> Iterator[Any]:
        try:
            yield from reader
        except pa.ArrowInvalid as exc:
            raise TableError(f"unreadable {fmt.upper()}: {exc}") from None
    return present, csv_batches()
