"""The buyer's Parquet copy of a delivered table (SPEC §10), for Delta Sharing.

Pure code, no Django: reads the data file exactly as it sits in the delivery ZIP (CSV, TSV,
JSON Lines or Parquet) batch by batch and writes one Parquet file with the same rows, in
the same order, plus the Delta Lake ``schemaString`` describing it.

Column types: a column is typed only where the caller says so (``column_types``: Table
Schema ``integer``/``number``/``boolean`` for columns whose every value the quality check
found valid); every other CSV/TSV/JSON Lines column stays text, exactly as written (an
empty cell of a text column stays ``""``, of a typed one becomes null). A Parquet source
keeps its own types (those Delta cannot describe become text). Anything that cannot be
converted faithfully — a malformed row, a value that does not fit its declared type, a
JSON Lines key not among the columns — raises :class:`ParquetConversionError`: the copy is
all the rows or nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from workers.quality.csvplan import plan_from_head
from workers.quality.decoding import DecodingReader
from workers.quality.detect import sniff_encoding
from workers.quality.dialect import Dialect
from workers.quality.encoding import EncodingRestart, Undecodable, guess_encoding

# Rows per batch written (JSON Lines) and CSV block size: memory stays a few blocks whatever
# the file's size; a CSV row longer than the block cannot be read (the quality check refuses
# rows over its own 64 MiB limit, so 64 MiB blocks read everything it passed).
JSONL_BATCH_ROWS = 20_000
CSV_BLOCK_BYTES = 64 * 1024 * 1024
HEAD_BYTES = 1024 * 1024
TYPED = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
TRUE_TEXT = {"true", "True", "TRUE", "1"}
FALSE_TEXT = {"false", "False", "FALSE", "0"}


class ParquetConversionError(Exception):
    """The data file cannot be written as Parquet with exactly its rows."""


@dataclass(frozen=True)
class ParquetResult:
    rows: int
    size: int
    sha256: str
    schema_string: str  # Delta Lake schema (JSON text) of the written file
    columns: tuple[str, ...]


def delta_type(t: pa.DataType) -> str | None:
    """The Delta Lake primitive type name for an Arrow type, or None (written as text)."""
    if pa.types.is_boolean(t):
        return "boolean"
    for check, name in ((pa.types.is_int8, "byte"), (pa.types.is_int16, "short"), (pa.types.is_int32, "integer"),
                        (pa.types.is_int64, "long"), (pa.types.is_float32, "float"), (pa.types.is_float64, "double"),
                        (pa.types.is_date32, "date")):
        if check(t):
            return name
    if pa.types.is_uint8(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_uint32(t):
        return "long"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_decimal(t) and t.precision <= 38:
        return f"decimal({t.precision},{t.scale})"
    return None


def _target_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type a column is written with: its own, or one Delta can describe."""
    if pa.types.is_uint8(t) or pa.types.is_uint16(t):
        return pa.int32()
    if pa.types.is_uint32(t):
        return pa.int64()
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_date64(t):
        return pa.date32()
    return t if delta_type(t) is not None else pa.string()


def schema_string(schema: pa.Schema) -> str:
    """Delta Lake's ``schemaString`` (a Spark struct type as JSON) for an Arrow schema."""
    fields = [{"name": f.name, "type": delta_type(f.type) or "string", "nullable": True, "metadata": {}}
              for f in schema]
    return json.dumps({"type": "struct", "fields": fields}, separators=(",", ":"), ensure_ascii=False)


def _write(batches: Iterator[pa.RecordBatch], schema: pa.Schema, out: BinaryIO,
           progress: Callable[[int], None] | None) -> int:
    rows = 0
    with pq.ParquetWriter(out, schema, compression="snappy") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
            if progress is not None:
                progress(rows)
    return rows


def _column(values: pa.Array, name: str, kind: str | None, missing: tuple[str, ...] = ("",)) -> pa.Array:
    """A text column cast to its declared type (a missing value → null); a value that does not fit raises."""
    if kind is None:
        return values
    trimmed = pc.utf8_trim_whitespace(values)
    empty = pc.or_(pc.equal(trimmed, ""), pc.is_in(values, pa.array(list(missing), pa.string())))
    text = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)
    try:
        if kind == "boolean":
            valid = pc.or_(pc.is_in(text, pa.array(sorted(TRUE_TEXT))), pc.is_in(text, pa.array(sorted(FALSE_TEXT))))
            if not pc.all(pc.or_(valid, pc.is_null(text))).as_py():
                raise pa.ArrowInvalid("not a boolean")
            return pc.if_else(pc.is_null(text), pa.scalar(None, pa.bool_()), pc.is_in(text, pa.array(sorted(TRUE_TEXT))))
        return text.cast(TYPED[kind])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ParquetConversionError(f"column {name!r} holds a value that is not a valid {kind}: {exc}") from None


class _Joined(io.RawIOBase):
    """The head already read, then the rest of the stream (from the file's first byte; the
    decoder drops a byte-order mark)."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(b))
        b[:len(data)] = data
        return len(data)


def _read_head(source: BinaryIO) -> bytes:
    parts, size = [], 0
    while size < HEAD_BYTES:
        data = source.read(HEAD_BYTES - size)
        if not data:
            break
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def _csv(source: BinaryIO, fmt: str, column_types: dict[str, str], missing: tuple[str, ...], out: BinaryIO,
         progress, dialect: Dialect | None = None, declared_names: list[str] | None = None) -> tuple[int, pa.Schema]:
    head = _read_head(source)
    encoding, problem = sniff_encoding(head)
    if encoding is None:
        raise ParquetConversionError(problem)
    # read exactly as the quality check reads it (workers/quality/csvplan.py): the same
    # encoding rules (strict, UTF-8 handed to pyarrow), header / metadata rows and names
    choice = guess_encoding(head)
    plan = plan_from_head(head, choice.codec, kind=fmt, dialect=dialect, declared_names=declared_names or None)
    stream = io.BufferedReader(DecodingReader(_Joined(head, source), choice, text_filter=plan.filter),
                               buffer_size=HEAD_BYTES)
    try:
        reader = pcsv.open_csv(
            stream, read_options=pcsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES, encoding="utf8",
                                                  **plan.read_kwargs),
            parse_options=pcsv.ParseOptions(**plan.parse_kwargs, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                column_types={name: pa.string() for name in plan.names}))
    except (EncodingRestart, Undecodable) as exc:
        raise ParquetConversionError(f"the file's text could not be read as {choice.label}: {exc}") from None
    except (pa.ArrowInvalid, UnicodeError) as exc:
        raise ParquetConversionError(f"a row could not be read: {exc}") from None
    names = reader.schema.names
    if len(set(names)) != len(names):
        raise ParquetConversionError("the header repeats a column name")
    kinds = [column_types.get(n) if column_types.get(n) in TYPED else None for n in names]
    schema = pa.schema([pa.field(n, TYPED[k] if k else pa.string()) for n, k in zip(names, kinds, strict=True)])

    def batches():
        try:
            for batch in reader:
                cols = [_column(batch.column(i), n, k, missing) for i, (n, k) in enumerate(zip(names, kinds, strict=True))]
                yield pa.RecordBatch.from_arrays(cols, schema=schema)
        except pa.ArrowInvalid as exc:
            raise ParquetConversionError(f"a row could not be read: {exc}") from None
        except (EncodingRestart, Undecodable) as exc:
            raise ParquetConversionError(f"the file's text could not be read as {choice.label}: {exc}") from None

    return _write(batches(), schema, out, progress), schema


def _json_cell(value: Any, name: str, kind: str | None) -> Any:
    if value is None:
        return None
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParquetConversionError(f"column {name!r} holds {value!r}, not an integer")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParquetConversionError(f"column {name!r} holds {value!r}, not a number")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ParquetConversionError(f"column {name!r} holds {value!r}, not a boolean")
        return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _jsonl(source: BinaryIO, columns: list[str], column_types: dict[str, str], out: BinaryIO,
           progress) -> tuple[int, pa.Schema]:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline=None)
    lines = (line for line in text if line.strip())
    first_line = next(lines, None)
    if first_line is None:
        raise ParquetConversionError("the file holds no JSON object")
    first = _object(first_line, 1)
    names = list(columns) or list(first)
    names += [k for k in first if k not in names]
    kinds = [column_types.get(n) if column_types.get(n) in TYPED else None for n in names]
    schema = pa.schema([pa.field(n, TYPED[k] if k else pa.string()) for n, k in zip(names, kinds, strict=True)])
    known = set(names)

    def batches():
        pending, number = [first], 1
        for line in lines:
            number += 1
            pending.append(_object(line, number))
            if len(pending) >= JSONL_BATCH_ROWS:
                yield _json_batch(pending, names, kinds, known, schema)
                pending = []
        if pending:
            yield _json_batch(pending, names, kinds, known, schema)

    return _write(batches(), schema, out, progress), schema


def _object(line: str, number: int) -> dict:
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise ParquetConversionError(f"line {number} is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ParquetConversionError(f"line {number} is not a JSON object")
    return obj


def _json_batch(objs: list[dict], names: list[str], kinds: list, known: set[str], schema: pa.Schema) -> pa.RecordBatch:
    for obj in objs:
        extra = [k for k in obj if k not in known]
        if extra:
            raise ParquetConversionError(f"key {extra[0]!r} is not among the table's columns")
    arrays = [pa.array([_json_cell(o.get(n), n, k) for o in objs], type=schema.field(n).type)
              for n, k in zip(names, kinds, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _parquet(source: BinaryIO, out: BinaryIO, progress) -> tuple[int, pa.Schema]:
    try:
        pf = pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ParquetConversionError(f"not a readable Parquet file: {exc}") from None
    src = pf.schema_arrow
    schema = pa.schema([pa.field(f.name, _target_type(f.type)) for f in src])

    def batches():
        for batch in pf.iter_batches(batch_size=65_536):
            cols = [batch.column(i).cast(schema.field(i).type) if batch.column(i).type != schema.field(i).type
                    else batch.column(i) for i in range(batch.num_columns)]
            yield pa.RecordBatch.from_arrays(cols, schema=schema)

    try:
        return _write(batches(), schema, out, progress), schema
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ParquetConversionError(f"a column could not be converted: {exc}") from None


class _Hashing(io.RawIOBase):
    """Counts and hashes what the Parquet writer writes (it writes strictly forward)."""

    def __init__(self, out: BinaryIO):
        self._out, self.size, self.hash = out, 0, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self._out.write(data)
        self.hash.update(data)
        self.size += len(data)
        return len(data)


def write_parquet(source: BinaryIO, out: BinaryIO, *, fmt: str, column_types: dict[str, str] | None = None,
                  columns: list[str] | None = None, missing_values: tuple[str, ...] = ("",),
                  progress: Callable[[int], None] | None = None, dialect: Dialect | None = None) -> ParquetResult:
    """Write ``source`` (a data file of format ``fmt``) to ``out`` as one Parquet file.

    ``column_types`` maps column names to the Table Schema types to apply (others stay
    text); ``columns`` gives JSON Lines' column order (default: the first object's keys);
    ``missing_values`` (Table Schema ``missingValues``) become null in typed CSV columns.
    ``dialect``: the CSV Dialect the quality check read the file with (declared beats sniffed, the
    same ``plan_from_head``); ``columns`` also name a CSV's columns when it has no header.
    A Parquet ``source`` must be seekable. Raises ParquetConversionError.
    """
    fmt = (fmt or "").lower()
    sink = _Hashing(out)
    try:
        if fmt in ("csv", "tsv"):
            rows, schema = _csv(source, fmt, column_types or {}, tuple(missing_values), sink, progress,
                                dialect=dialect, declared_names=list(columns or []))
        elif fmt == "jsonl":
            rows, schema = _jsonl(source, list(columns or []), column_types or {}, sink, progress)
        elif fmt == "parquet":
            rows, schema = _parquet(source, sink, progress)
        else:
            raise ParquetConversionError(f"format {fmt!r} is not a table this exchange can share")
    except UnicodeError as exc:
        raise ParquetConversionError(f"the file is not valid text: {exc}") from None
    except pa.ArrowInvalid as exc:
        raise ParquetConversionError(str(exc)) from None
    return ParquetResult(rows=rows, size=sink.size, sha256=sink.hash.hexdigest(), schema_string=schema_string(schema),
                         columns=tuple(schema.names))
