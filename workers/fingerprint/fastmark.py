"""The copy-through marker of scheme /2 for UTF-8 CSV and TSV with decimal marks only.

One compiled pass per block of whole lines does everything the row-by-row marker does for a
plain line: it finds the line and its key cell, hashes the key (SipHash-2-4, siphash.py),
and for the 1 row in ~2γ the selection key picks it reads the marked cells, draws the
contract's bits, applies the running budget and toggles the last digits in place. All other
bytes are the input's, copied through. A line the kernel cannot decide exactly as the csv
module would (a quote anywhere in it, an empty line, a short row, a key that is not plain
ASCII text or a canonical integer, a marked cell not written at its declared precision)
stops the kernel; Python marks that one line with Marker.selected, as the row path does,
and the kernel resumes after it. A quoted cell spanning lines, a lone CR or a NUL hands the
rest of the file to the row-by-row copy (delimited._row_path), exactly as delimited.py does.
tests/workers/test_fingerprint_fast.py proves the outputs byte-identical to both other paths.
"""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

import numpy as np

from . import batch, scan
from .batch import _jit, _jit_inline
from .delimited import BLOCK, _header, _row_path
from .keys import V2, sip_key
from .mark import Marker
from .siphash import absorb, bits_word, key_words, second
from .tables import HEAD_BYTES, TableError, _layout, requote

ROWS, SELECTED, CHANGED, CELLS, MARKED, SKIPPED = range(6)
# a word "has a zero byte" test (x - 0x01..) & ~x & 0x80..: on w ^ "\n\n..." and w ^ '""...'
ONES8, HIGH8 = np.uint64(0x0101010101010101), np.uint64(0x8080808080808080)
NL8, QU8 = np.uint64(0x0A0A0A0A0A0A0A0A), np.uint64(0x2222222222222222)


@_jit_inline
def _bswap(x):  # pragma: no cover - compiled
    r = np.uint64(0)
    for _ in range(8):
        r = (r << np.uint64(8)) | (x & np.uint64(0xFF))
        x >>= np.uint64(8)
    return r


@_jit
def _mark(data, words, pos, column, delim, k0, k1, limit, every, cols, colbit, decs, b0, b1, gamma,
          state, scratch):  # pragma: no cover - compiled
    """Marks the lines of ``data`` from ``pos`` in place; returns the start of the first line
    Python must mark, or len(data) when the block is done. ``state`` holds the counters."""
    n = len(data)
    nw = len(words)  # data's 8-byte words (data starts 8-aligned), or none
    ncol = len(cols)
    p = pos
    while p < n:
        s = p
        field, ks, ke = 0, s, -1
        quoted = False
        q = s
        while q < n:
            if field > column and (q >> 3) + 1 < nw:  # past the key: the newline 8 bytes at a time
                i, off = q >> 3, np.uint64(8 * (q & 7))
                w = words[i] >> off
                if off:
                    w |= words[i + 1] << (np.uint64(64) - off)
                x, y = w ^ NL8, w ^ QU8
                at_nl = (x - ONES8) & ~x & HIGH8  # the lowest flagged byte is exact
                at_qu = (y - ONES8) & ~y & HIGH8
                if not at_nl:
                    quoted = quoted or at_qu != 0
                    q += 8
                    continue
                low = at_nl & (~at_nl + np.uint64(1))  # the first newline's flag bit
                if at_qu & (low - np.uint64(1)):
                    quoted = True  # a quote before it
                while low > np.uint64(0x80):
                    low >>= np.uint64(8)
                    q += 1
                break  # q: the newline
            c = data[q]
            if c == 10:
                break
            if c == delim:
                if field == column:
                    ke = q
                field += 1
                if field == column:
                    ks = q + 1
            elif c == 34:
                quoted = True
            q += 1
        body = q
        if body > s and data[body - 1] == 13:
            body -= 1
        if ke < 0 and field == column:
            ke = body
        if quoted or ke <= ks:
            return s
        digits, numeric = True, True
        for t in range(ks, ke):
            c = data[t]
            if c < 32 or c > 126:
                return s  # control or non-ASCII bytes: key_part normalises them in Python
            if c < 48 or c > 57:
                digits = False
                if c != 43 and c != 45 and c != 46:
                    numeric = False
        if data[ks] == 32 or data[ke - 1] == 32:
            return s
        if digits:
            if ke - ks > 1 and data[ks] == 48:
                return s  # "007": its key is "7"
        elif numeric:
            return s  # "+7", "7.0", ...: key_part writes their canonical form
        v0, v1, v2, v3 = absorb(k0, k1, data, ks, ke, True)
        w0 = v0 ^ v1 ^ v2 ^ v3
        if not every and _bswap(w0) >= limit:
            state[0] += 1
            p = q + 1
            continue
        # a selected row: its marked cells, all plain numbers at their precision, or Python
        ntog, marked, k = 0, 0, 0
        field, fs = 0, s
        nb = -1
        word = np.uint64(0)
        w1 = np.uint64(0)
        for t in range(s, body + 1):
            if k >= ncol:
                break
            if t < body and data[t] != delim:
                continue
            if field == cols[k]:
                if t > fs:
                    u = fs
                    neg = data[u] == 45
                    if data[u] == 43 or data[u] == 45:
                        u += 1
                    ws = u
                    while u < t and 48 <= data[u] <= 57:
                        u += 1
                    whole = u - ws
                    if whole < 1 or (whole > 1 and data[ws] == 48) or u >= t or data[u] != 46:
                        return s
                    u += 1
                    frac_s = u
                    while u < t and 48 <= data[u] <= 57:
                        u += 1
                    if u != t or t - frac_s != decs[k]:
                        return s
                    zeros = neg
                    if neg:
                        for z in range(ws, t - 1):
                            if data[z] != 48 and data[z] != 46:
                                zeros = False
                    j = colbit[k]
                    if j // 64 != nb:
                        if nb < 0:
                            w1 = second(v0, v1, v2, v3)
                        nb = j // 64
                        word = bits_word(b0, b1, w0, w1, nb)
                    want = (word >> np.uint64(j % 64)) & np.uint64(1)
                    marked += 1
                    if np.uint64((data[t - 1] - 48) & 1) != want:
                        if zeros:
                            return s  # -0.0x to flip: the sign may go (Python rewrites the cell)
                        scratch[ntog] = t - 1
                        ntog += 1
                k += 1
            field += 1
            fs = t + 1
        rowno = state[0] + 1
        state[1] += 1
        if ntog == 0:
            state[4] += marked
        elif state[2] + 1 > rowno // gamma:
            state[5] += 1
        else:
            state[2] += 1
            state[3] += ntog
            state[4] += marked
            for t in range(ntog):
                data[scratch[t]] ^= 1  # '0'<->'1' ... '8'<->'9'
        state[0] += 1
        p = q + 1
    return n


_NO_WORDS = np.zeros(0, dtype=np.uint64)


class _Kernel:
    """The compiled pass's arguments for one marker."""

    def __init__(self, marker: Marker, selection: bytes, column: int, delim: int):
        plan = marker.plan
        cols = sorted(marker._cols, key=lambda c: c[1])  # (bit j, position, column)
        k0, k1 = (np.uint64(w) for w in key_words(sip_key(selection, b"sel")))
        b0, b1 = (np.uint64(w) for w in key_words(sip_key(marker.contract, b"bit")))
        every = marker.limit >= 1 << 64
        self.args = (column, delim, k0, k1, np.uint64(0 if every else marker.limit), every,
                     np.array([i for _, i, _ in cols], dtype=np.int64), np.array([j for j, _, _ in cols], dtype=np.int64),
                     np.array([c.decimals for _, _, c in cols], dtype=np.int64), b0, b1, plan.gamma)
        self.state = np.array([marker.rows, marker.selected_rows, marker.changed, marker.cells, marker.marked,
                               marker.skipped], dtype=np.int64)
        self.scratch = np.empty(max(1, len(cols)), dtype=np.int64)
        self.marker = marker

    def run(self, data: np.ndarray, pos: int) -> int:
        words = data[:len(data) // 8 * 8].view(np.uint64) if data.ctypes.data % 8 == 0 else _NO_WORDS
        return int(_mark(data, words, pos, *self.args, self.state, self.scratch))

    def to_marker(self) -> None:
        m, s = self.marker, self.state
        m.rows, m.selected_rows, m.changed, m.cells, m.marked, m.skipped = (int(x) for x in s)

    def from_marker(self) -> None:
        m = self.marker
        self.state[:] = (m.rows, m.selected_rows, m.changed, m.cells, m.marked, m.skipped)


def mark_fast(f: BinaryIO, out: BinaryIO, fmt: str, marker: Marker, selection: bytes) -> int | None:
    """Rows marked, or None (nothing written, ``f`` to be re-read) when another path must mark it."""
    plan = marker.plan
    if plan.scheme != V2 or not batch.AVAILABLE or len(plan.key_columns) != 1 or plan.key_columns[0] in plan.decimals \
            or any(c.kind != "decimal" for c in plan.columns):
        return None
    head = f.read(HEAD_BYTES)
    f.seek(0)
    layout = _layout(head, fmt)
    if layout.encoding != "utf-8":
        return None
    first = _header(f, layout.bom)
    if first is None:
        f.seek(0)
        return None
    header_raw, rest = first
    try:
        header_text = header_raw.decode("utf-8")
    except UnicodeDecodeError:
        f.seek(0)
        return None
    header = next(csv.reader([header_text], delimiter=layout.delimiter))
    marker.bind(header)  # KeyColumnsMissing when the key column is absent
    column = {name: i for i, name in enumerate(header)}[plan.key_columns[0]]
    if layout.bom:
        out.write(b"\xef\xbb\xbf")
    out.write(header_raw)
    delim = ord(layout.delimiter)
    kernel = _Kernel(marker, selection, column, delim)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=layout.delimiter, lineterminator="")
    carry, eof = rest, False
    while not eof or carry:
        block = bytearray(len(carry) + (0 if eof else BLOCK))
        block[:len(carry)] = carry
        got = f.readinto(memoryview(block)[len(carry):]) if not eof else 0
        eof = eof or not got
        del block[len(carry) + got:]
        cut = len(block) if eof else block.rfind(b"\n") + 1
        carry = bytes(block[cut:])
        del block[cut:]
        if not block:
            continue
        line_no = 1 + kernel.state[ROWS]  # every line so far was one record
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError as exc:
                at_line = line_no + block.count(b"\n", 0, exc.start) + 1
                raise TableError(f"unreadable {fmt.upper()} at line {at_line}: {exc}") from None
        if (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")) or b"\0" in block:
            kernel.to_marker()
            return _handover(f, out, fmt, layout, marker, header, bytes(block), carry, line_no)
        arr = np.frombuffer(block, dtype=np.uint8)
        replaced: list[tuple[int, int, bytes]] = []
        pos = 0
        while (pos := kernel.run(arr, pos)) < len(block):
            end = block.find(b"\n", pos)
            end = len(block) if end < 0 else end + 1
            line = bytes(block[pos:end])
            if b'"' in line and _spans(line, column, delim):
                kernel.to_marker()
                _write(out, block, replaced, pos)
                return _handover(f, out, fmt, layout, marker, header, bytes(block[pos:]), carry,
                                 1 + kernel.state[ROWS])
            kernel.to_marker()
            new = _python_line(marker, line.decode("utf-8"), layout.delimiter, writer, buf)
            kernel.from_marker()
            if new is not None:
                replaced.append((pos, end, new))
            pos = end
        del arr
        _write(out, block, replaced, len(block))
    kernel.to_marker()
    return marker.rows


def _spans(line: bytes, column: int, delim: int) -> bool:
    """Whether ``line`` ends inside a quoted cell (a record continuing on the next line)."""
    arr = np.frombuffer(line, dtype=np.uint8)
    body = len(line) - (1 if line.endswith(b"\n") else 0)
    result, _, _ = scan.scan_key_cells(arr, np.zeros(1, np.int64), np.array([body], np.int64), column, delim)
    return bool(result[0] == scan.SPANS)


def _python_line(marker: Marker, line: str, delimiter: str, writer, buf) -> bytes | None:
    """One line the kernel left to Python: Marker.edit's decision for it, as the row path takes it."""
    cells = next(csv.reader([line], delimiter=delimiter), [])
    new = marker.edit(marker._header, cells)
    return None if new is None else requote(writer, buf, new, line).encode("utf-8")


def _write(out: BinaryIO, block: bytearray, replaced: list[tuple[int, int, bytes]], stop: int) -> None:
    """``block[:stop]`` with the ``replaced`` lines spliced in, written without joining copies."""
    view, at = memoryview(block), 0
    for s, e, text in replaced:
        out.write(view[at:s])
        out.write(text)
        at = e
    out.write(view[at:stop])
    view.release()


def _handover(f, out, fmt, layout, marker: Marker, header, tail: bytes, carry: bytes, line_no: int) -> int:
    """The rest of the file (``tail``, ``carry``, then ``f``) row by row; returns all rows marked."""
    before = marker.rows
    return before + _row_path(f, out, fmt, layout, marker, header, tail.decode("utf-8"), carry, line_no)
