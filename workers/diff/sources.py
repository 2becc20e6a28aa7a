"""Stream a stored version's rows as text for the diff, read the way its quality check read it
(format, encoding and delimiter from the version's report). No Django."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .batches import BatchesUnsupported
from .rows import Table, Value

csv.field_size_limit(64 * 1024 * 1024)  # the quality check already refused longer rows


@dataclass(frozen=True)
class ReadAs:
    """How the quality check read the file."""

    format: str  # csv | tsv | jsonl | parquet
    columns: tuple[str, ...]
    encoding: str = "utf-8"
    delimiter: str = ","
    header: bool = True  # the first line holds the column names (CSV/TSV)
    # rows before the data (metadata lines and the header, as the quality check found them);
    # None: one when there is a header, else none
    skip_rows: int | None = None
    missing_values: tuple[str, ...] = ("",)  # text that means null (Table Schema missingValues)


def _skip(how: ReadAs) -> int:
    return how.skip_rows if how.skip_rows is not None else int(how.header)


def _text(v: object) -> Value:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(v)


def _delimited(path: Path, how: ReadAs) -> Iterator[Sequence[Value]]:
    missing = set(how.missing_values)
    with open(path, encoding=how.encoding, errors="strict", newline="") as f:
        reader = csv.reader(f, delimiter="\t" if how.format == "tsv" and how.delimiter == "," else how.delimiter)
        for _ in range(_skip(how)):
            next(reader, None)
        width = len(how.columns)
        for row in reader:
            if not row:
                continue  # a blank line is not a row (the quality check counts it apart)
            if len(row) > width:
                row = row[:width]
            yield [None if v in missing or not v.strip() else v for v in row]


def _delimited_batches(path: Path, how: ReadAs) -> Iterator[list[pa.Array]]:
    """The same rows as ``_delimited``, parsed by pyarrow into string arrays (the diff's batch path). A file
    pyarrow reads otherwise (a row with another number of fields, bad UTF-8, …) raises ``BatchesUnsupported``:
    the diff then reads it with ``_delimited``, as before."""
    import pyarrow.csv as pacsv

    delimiter = "\t" if how.format == "tsv" and how.delimiter == "," else how.delimiter
    width = len(how.columns)
    encoding = "utf8" if how.encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig") else how.encoding
    read = pacsv.ReadOptions(skip_rows=_skip(how), autogenerate_column_names=True, encoding=encoding,
                             block_size=4 << 20)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(width)},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    missing = pa.array(sorted(set(how.missing_values)), pa.string())
    try:
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        if len(reader.schema) != width:
            raise BatchesUnsupported(f"{len(reader.schema)} fields, {width} columns")
        for batch in reader:
            cols = []
            for c in batch.columns:  # null: a missing value, empty, or whitespace only (as ``_delimited``)
                null = pc.or_(pc.or_(pc.is_in(c, value_set=missing), pc.utf8_is_space(c)),
                              pc.equal(pc.binary_length(c), 0))
                cols.append(pc.if_else(null, pa.scalar(None, pa.string()), c) if pc.any(null).as_py() else c)
            yield cols
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError) as exc:
        raise BatchesUnsupported(str(exc)[:200]) from exc


def _jsonl(path: Path, how: ReadAs) -> Iterator[Sequence[Value]]:
    with open(path, encoding=how.encoding, errors="strict") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue  # a malformed line: the quality check reported it; it is not a row
            if isinstance(obj, dict):
                yield [_text(obj.get(c)) for c in how.columns]


def _parquet(path: Path, how: ReadAs) -> Iterator[Sequence[Value]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = [c for c in how.columns if c in pf.schema_arrow.names]
    for batch in pf.iter_batches(batch_size=8192, columns=names):
        cols = [batch.column(n).to_pylist() for n in names]
        for i in range(batch.num_rows):
            yield [_text(c[i]) for c in cols]


_READERS = {"csv": _delimited, "tsv": _delimited, "jsonl": _jsonl, "parquet": _parquet}


def table_from_file(path: str | Path, how: ReadAs) -> Table:
    if how.format not in _READERS:
        raise ValueError(f"cannot compare {how.format!r} files")
    read = _READERS[how.format]
    encoding = "utf-8-sig" if how.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else how.encoding
    how = ReadAs(**{**how.__dict__, "encoding": encoding})
    batches = (lambda: _delimited_batches(Path(path), how)) if how.format in ("csv", "tsv") else None
    return Table(columns=how.columns, rows=lambda: read(Path(path), how), batches=batches)


__all__ = ["ReadAs", "table_from_file"]
