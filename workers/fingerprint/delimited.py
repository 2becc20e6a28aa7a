"""The batch marker for CSV and TSV: blocks of lines, every row key hashed at once.

Per block (8 MiB of whole lines) numpy finds the lines, a compiled scan (scan.scan_key_cells)
finds each line's key cell with the csv module's quoting rules, and batch.Hasher computes the
selection digest of every canonical integer key in one call. Python then sees only the rows
the selection key picks (1 in ~2γ) and the few lines whose key needs the csv module (a quoted
or non-canonical key). Every other line is copied as its bytes. Output is byte for byte what
the row-by-row marker (tables.copy_records) writes:

* the encoding round trip is the same (a GB18030 block is decoded and encoded again);
* a line that opens a quoted cell continuing on the next line, or a lone CR, hands the rest
  of the file to the row-by-row copy, which reads it exactly as it would have;
* without numba, or with a key of several columns (or a virtual key), the file is marked row
  by row from the start.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from . import batch, scan
from .mark import Marker
from .tables import HEAD_BYTES, TableError, _encoding, _layout, copy_records, requote

BLOCK = 8 << 20


def _header(f: BinaryIO, bom: bool) -> tuple[bytes, bytes] | None:
    """The header line's raw bytes and what follows in the first read; None when the header is
    not one plain line (quotes, a lone CR, no newline: the row path handles those)."""
    data = f.read(BLOCK)
    if bom:
        data = data[3:]
    end = data.find(b"\n")
    if end < 0:
        return None
    line = data[:end + 1]
    if b'"' in line or b"\r" in line[:-2] or b"\0" in line:
        return None
    return line, data[end + 1:]


def _lines(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (at its newline) and end of content (before CR LF) of every line."""
    if batch.AVAILABLE:
        return scan.split_lines(arr)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    if starts[-1] >= len(arr):  # the block ends with a newline: no partial line after it
        starts, ends = starts[:-1], ends[:-1]
    body_ends = ends.copy()
    cr = (body_ends > starts) & (arr[np.maximum(body_ends - 1, 0)] == 13)
    body_ends[cr] -= 1
    return starts, ends, body_ends


def _blocks(f: BinaryIO, rest: bytes) -> Iterator[bytes]:
    """Whole lines, about BLOCK bytes at a time (the last block may lack its newline)."""
    carry, eof = rest, False
    while not eof or carry:
        chunk = f.read(BLOCK) if not eof else b""
        eof = eof or not chunk
        data = carry + chunk
        cut = len(data) if eof else data.rfind(b"\n") + 1
        carry = data[cut:]
        if cut:
            yield data[:cut]


def csv_stats_batch(f: BinaryIO, fmt: str, header: list[str]):
    """tables.csv_stats (the plan's column scan) by the compiled kernel, for a file without any
    quote character, lone CR or NUL; None otherwise (``f`` back at its start either way)."""
    from .plan import ColumnStats

    if not batch.AVAILABLE:
        return None
    head = f.read(HEAD_BYTES)
    f.seek(0)
    layout = _layout(head, fmt)
    try:
        first = _header(f, layout.bom)
        if first is None:
            return None
        ncols = len(header)
        values = np.zeros(ncols, dtype=np.int64)
        numeric = np.ones(ncols, dtype=np.bool_)
        decimals = np.zeros(ncols, dtype=np.int64)
        rows = 0
        for raw in _blocks(f, first[1]):
            try:
                block = raw if layout.encoding == "utf-8" else raw.decode(layout.encoding).encode("utf-8")
                if layout.encoding == "utf-8" and not raw.isascii():
                    raw.decode("utf-8")
            except UnicodeDecodeError:
                return None
            if b'"' in block or b"\0" in block or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")):
                return None
            rows += scan.column_stats_block(np.frombuffer(block, dtype=np.uint8), ncols, ord(layout.delimiter), values,
                                            numeric, decimals)
    finally:
        f.seek(0)
    stats = {name: ColumnStats() for name in header}
    for i, name in enumerate(header):  # a repeated column name adds up, as in csv_stats
        c = stats[name]
        c.values += int(values[i])
        c.numeric = c.numeric and bool(numeric[i])
        c.decimals = max(c.decimals, int(decimals[i]))
    return stats, rows


def mark_delimited(f: BinaryIO, out: BinaryIO, fmt: str, marker: Marker, selection: bytes) -> int | None:
    """Rows marked, or None (nothing written, ``f`` to be re-read) when this file needs the row path."""
    plan = marker.plan
    if not batch.AVAILABLE or len(plan.key_columns) != 1 or plan.key_columns[0] in plan.decimals:
        return None  # (a marked key column, a one-column virtual key, counts by its upper digits: row path)
    head = f.read(HEAD_BYTES)
    f.seek(0)
    layout = _layout(head, fmt)
    enc = layout.encoding
    first = _header(f, layout.bom)
    if first is None:
        return None
    header_raw, rest = first
    try:
        header_text = header_raw.decode(enc)
    except UnicodeDecodeError:
        return None
    header = next(csv.reader([header_text], delimiter=layout.delimiter))
    marker.bind(header)  # KeyColumnsMissing when the key column is absent
    column = {name: i for i, name in enumerate(header)}[plan.key_columns[0]]
    if layout.bom:
        out.write(b"\xef\xbb\xbf")
    out.write(header_text.encode(enc))
    hasher = batch.hasher_for(plan.scheme, selection)
    delim = ord(layout.delimiter)
    decimal_cells = marker.decimal_cells()
    reader = csv.reader
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=layout.delimiter, lineterminator="")
    rows = 0
    line_no = 1
    carry = rest
    eof = False
    while not eof or carry:
        chunk = f.read(BLOCK) if not eof else b""
        eof = eof or not chunk
        data = carry + chunk
        cut = len(data) if eof else data.rfind(b"\n") + 1
        if cut == 0:  # no newline yet: read on
            carry = data
            continue
        raw, carry = data[:cut], data[cut:]
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            at_line = line_no + raw.count(b"\n", 0, exc.start) + 1
            raise TableError(f"unreadable {fmt.upper()} at line {at_line}: {exc}") from None
        block = raw if enc == "utf-8" else text.encode(enc)
        if (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")) or b"\0" in block:
            return rows + _row_path(f, out, fmt, layout, marker, header, text, carry, line_no)
        arr = np.frombuffer(block, dtype=np.uint8)
        starts, ends, body_ends = _lines(arr)
        result, cs, ce = scan.scan_key_cells(arr, starts, body_ends, column, delim)
        spans = np.flatnonzero(result == scan.SPANS)
        n = len(starts) if not len(spans) else int(spans[0])
        canon = np.flatnonzero(result[:n] == scan.CANONICAL)
        words = hasher.words(arr, cs[canon], ce[canon])
        sel = np.flatnonzero(batch.selected_mask(words, marker.limit))
        raw_digests = words[sel].astype("<u8").tobytes()
        picked = [(int(canon[k]), raw_digests[16 * j:16 * j + 16]) for j, k in enumerate(sel)]
        for i in np.flatnonzero(result[:n] == scan.PYTHON):
            line = block[starts[i]:ends[i] + 1].decode(enc)
            digest = hasher.one(marker.key(next(reader([line], delimiter=layout.delimiter), [])).encode("utf-8"))
            if int.from_bytes(digest[:8], "big") < marker.limit:
                picked.append((int(i), digest))
        picked.sort()
        simple = decimal_cells is not None and len(picked) > 0
        if simple:
            bit_of, positions, decimals = decimal_cells
            rows_at = np.array([i for i, _ in picked], dtype=np.int64)
            status, last, have = scan.marked_cells(arr, starts, body_ends, rows_at, np.array(positions, dtype=np.int64),
                                                    np.array(decimals, dtype=np.int64), delim)
        toggles: list[int] = []
        replaced: list[tuple[int, int, bytes]] = []
        for r, (i, digest) in enumerate(picked):
            if simple and not status[r]:
                toggles.extend(marker.selected_digits(rows + i + 1, digest, bit_of, have[r], last[r]))
                continue
            s, e = int(starts[i]), min(int(ends[i]) + 1, len(block))
            line = block[s:e].decode(enc)
            cells = line.rstrip("\r\n").split(layout.delimiter) if '"' not in line and line.strip("\r\n") else \
                next(reader([line], delimiter=layout.delimiter), [])  # a plain line: its cells are its split
            new = marker.selected(rows + i + 1, digest, cells)
            if new is not None:
                replaced.append((s, e, requote(writer, buf, new, line).encode(enc)))
        if toggles:
            edited = bytearray(block)
            np.frombuffer(edited, dtype=np.uint8)[np.array(toggles, dtype=np.int64)] ^= 1  # '0'<->'1' ... '8'<->'9'
            block = edited
        pieces: list[bytes] = []
        at = 0
        for s, e, text_new in replaced:
            pieces.append(block[at:s])
            pieces.append(text_new)
            at = e
        marker.rows += n
        rows += n
        line_no += n
        if n < len(starts):  # a record of several lines starts here: the row path takes over
            pieces.append(block[at:int(starts[n])])
            out.write(b"".join(pieces))
            tail = block[int(starts[n]):].decode(enc)
            return rows + _row_path(f, out, fmt, layout, marker, header, tail, carry, line_no)
        pieces.append(block[at:])
        out.write(b"".join(pieces))
    return rows


def _row_path(f: BinaryIO, out: BinaryIO, fmt: str, layout, marker: Marker, header: list[str], text: str,
              carry: bytes, line_no: int) -> int:
    """The rest of the file, row by row: ``text`` (decoded, whole lines), the undecoded ``carry``,
    then whatever ``f`` still holds."""
    def lines() -> Iterator[str]:
        yield from io.StringIO(text, newline="")
        rest = io.BufferedReader(_Chain(carry, f))
        yield from io.TextIOWrapper(rest, encoding=layout.encoding, newline="")
    count, _ = copy_records(lines(), out, fmt, layout, marker.edit, header, first_line=line_no)
    return count


class _Chain(io.RawIOBase):
    """``head`` bytes, then the rest of ``f``, as one readable raw stream."""

    def __init__(self, head: bytes, f: BinaryIO):
        super().__init__()
        self._head, self._f = head, f

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._f.read(len(b))
        b[:len(data)] = data
        return len(data)


_PLAIN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$"


def csv_stats(f: BinaryIO, fmt: str, header: list[str]):
    """plan.scan_rows for a delimited file, vectorised with pyarrow (every cell is text)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    from .plan import ColumnStats

    head = f.read(HEAD_BYTES)
    f.seek(0)
    names = [f"c{i}" for i in range(len(header))]
    try:
        reader = pcsv.open_csv(
            f, read_options=pcsv.ReadOptions(column_names=names, skip_rows=1, block_size=4 << 20,
                                              encoding="utf8" if _encoding(head) == "utf-8" else "gb18030"),
            parse_options=pcsv.ParseOptions(delimiter=_layout(head, fmt).delimiter, newlines_in_values=True,
                                            invalid_row_handler=lambda _row: "skip"),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise TableError(f"unreadable {fmt.upper()}: {exc}") from None
    stats = {name: ColumnStats() for name in header}
    count = 0
    for rb in reader:
        count += rb.num_rows
        for name, col in zip(header, rb.columns, strict=True):
            c = stats[name]
            filled = col.filter(pc.not_equal(col, ""))
            if not len(filled):
                continue
            c.values += len(filled)
            if c.numeric:
                if not pc.all(pc.match_substring_regex(filled, _PLAIN)).as_py():
                    c.numeric = False
                    continue
                frac = pc.utf8_length(pc.replace_substring_regex(pc.utf8_trim_whitespace(filled), r"^[^.]*\.?", ""))
                c.decimals = max(c.decimals, pc.max(frac).as_py() or 0)
    return stats, count
