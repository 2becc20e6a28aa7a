"""Compiled scans of delimited text (numba, see batch.py): lines, key cells, the plan's column
statistics, and the marked cells of selected rows. Each follows the csv module's quoting rules
(non-strict, ``"`` doubled inside quotes) or refuses the line, so the Python path decides it.
"""

from __future__ import annotations

import numpy as np

from .batch import _jit

# Cell scan results (scan_key_cells): the key cell is a canonical integer and its bounds are
# given; the line needs the csv module (quoted key, odd key, short row); the line opens a quoted
# cell that continues on the next line (a record of several lines: the batch path stops there).
CANONICAL, PYTHON, SPANS = 0, 1, 2


@_jit
def _scan(data, line_starts, line_ends, column, delim, result, cell_start, cell_end):  # pragma: no cover
    """For each line: where its ``column``-th cell is, whether it is a canonical integer, and
    whether the line ends inside a quoted cell (the csv module's state machine, non-strict)."""
    quote = 34
    for i in range(len(line_starts)):
        s, e = line_starts[i], line_ends[i]
        field, state, begin = 0, 0, s  # state 0 start of cell, 1 in cell, 2 in quotes, 3 quote in quotes
        quoted_key = False
        key_s, key_e = -1, -1
        for p in range(s, e):
            c = data[p]
            if state == 0:
                begin = p
                if c == quote:
                    state = 2
                    if field == column:
                        quoted_key = True
                elif c == delim:
                    if field == column:
                        key_s, key_e = p, p
                    field += 1
                else:
                    state = 1
            elif state == 1:
                if c == delim:
                    if field == column:
                        key_s, key_e = begin, p
                    field += 1
                    state = 0
            elif state == 2:
                if c == quote:
                    state = 3
            else:
                if c == quote:
                    state = 2
                elif c == delim:
                    field += 1
                    state = 0
                else:
                    state = 1
        if state == 2:
            result[i] = SPANS
            continue
        if key_s < 0 and field == column and state == 1:
            key_s, key_e = begin, e
        if quoted_key or key_s < 0 or key_e <= key_s:
            result[i] = PYTHON
            continue
        ok = key_e - key_s == 1 or data[key_s] != 48  # no leading zero ("007" is the key "7")
        for p in range(key_s, key_e):
            if data[p] < 48 or data[p] > 57:
                ok = False
                break
        result[i] = CANONICAL if ok else PYTHON
        cell_start[i], cell_end[i] = key_s, key_e


@_jit
def _is_space(c):  # pragma: no cover - compiled; RE2's \s
    return c == 32 or c == 9 or c == 10 or c == 12 or c == 13


@_jit
def _stats(data, line_starts, line_ends, ncols, delim, values, numeric, decimals):  # pragma: no cover
    """tables.csv_stats over quote-free lines: per column the non-empty cells, whether each is a
    plain number (``\\s*[+-]?(\\d+(\\.\\d*)?|\\.\\d+)\\s*``) and its most fractional digits. Empty
    lines and lines with another number of cells are skipped, as pyarrow's reader skips them."""
    rows = 0
    for i in range(len(line_starts)):
        s, e = line_starts[i], line_ends[i]
        if s >= e:
            continue
        cells = 1
        for p in range(s, e):
            if data[p] == delim:
                cells += 1
        if cells != ncols:
            continue
        rows += 1
        col, fs = 0, s
        for p in range(s, e + 1):
            if p < e and data[p] != delim:
                continue
            if p > fs:
                values[col] += 1
                if numeric[col]:
                    q = fs
                    while q < p and _is_space(data[q]):
                        q += 1
                    if q < p and (data[q] == 43 or data[q] == 45):
                        q += 1
                    whole = 0
                    while q < p and 48 <= data[q] <= 57:
                        q += 1
                        whole += 1
                    frac = 0
                    if q < p and data[q] == 46:
                        q += 1
                        while q < p and 48 <= data[q] <= 57:
                            q += 1
                            frac += 1
                    while q < p and _is_space(data[q]):
                        q += 1
                    if q != p or (whole == 0 and frac == 0):
                        numeric[col] = False
                    elif frac > decimals[col]:
                        decimals[col] = frac
            col += 1
            fs = p + 1
    return rows


def column_stats(data: np.ndarray, line_starts: np.ndarray, line_ends: np.ndarray, ncols: int, delim: int,
                 values: np.ndarray, numeric: np.ndarray, decimals: np.ndarray) -> int:
    """Adds one block's quote-free lines to the running per-column counts; returns its rows."""
    return int(_stats(data, line_starts, line_ends, ncols, delim, values, numeric, decimals))


@_jit
def _cells(data, line_starts, line_ends, rows, columns, decimals, delim, status, last, have):  # pragma: no cover
    """For each selected line ``rows[r]``, its marked cells (``columns``, ascending positions
    given with their index into ``columns``): the position of the last digit and its parity when
    the cell is written ``[+-]?(0|[1-9]\\d*)\\.\\d{p}`` with exactly its column's p decimals;
    ``have`` -1 for an empty cell. ``status[r]`` is 1 when any cell, or a quote in the line, needs
    the Python path (Marker.selected), 0 when toggling last digits is exactly what it would write."""
    ncol = len(columns)
    for r in range(len(rows)):
        i = rows[r]
        s, e = line_starts[i], line_ends[i]
        status[r] = 0
        for p in range(s, e):
            if data[p] == 34:
                status[r] = 1
        if status[r]:
            continue
        field, fs = 0, s
        for k in range(ncol):
            have[r, k] = -1
            last[r, k] = -1
        for p in range(s, e + 1):
            if p < e and data[p] != delim:
                continue
            for k in range(ncol):
                if columns[k] != field:
                    continue
                if p == fs:
                    break  # empty: carries no mark
                q = fs
                neg = data[q] == 45
                if data[q] == 43 or data[q] == 45:
                    q += 1
                whole_s = q
                while q < p and 48 <= data[q] <= 57:
                    q += 1
                whole = q - whole_s
                ok = whole >= 1 and (whole == 1 or data[whole_s] != 48) and q < p and data[q] == 46
                if ok:
                    q += 1
                    frac_s = q
                    while q < p and 48 <= data[q] <= 57:
                        q += 1
                    ok = q == p and p - frac_s == decimals[k]
                if ok and neg:  # a negative value whose other digits are all 0: flipping may drop its sign
                    zeros = True
                    for z in range(whole_s, p - 1):
                        if data[z] != 48 and data[z] != 46:
                            zeros = False
                    ok = not zeros
                if not ok:
                    status[r] = 1
                    break
                last[r, k] = p - 1
                have[r, k] = (data[p - 1] - 48) & 1
            if status[r]:
                break
            field += 1
            fs = p + 1


def marked_cells(data: np.ndarray, line_starts: np.ndarray, line_ends: np.ndarray, rows: np.ndarray,
                 columns: np.ndarray, decimals: np.ndarray, delim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, k = len(rows), len(columns)
    status = np.zeros(n, dtype=np.int8)
    last = np.full((n, k), -1, dtype=np.int64)
    have = np.full((n, k), -1, dtype=np.int8)
    _cells(data, line_starts, line_ends, rows, columns, decimals, delim, status, last, have)
    return status, last, have


@_jit
def _split(data, starts, ends, body_ends):  # pragma: no cover - compiled
    """Lines of ``data``: start, end (at its newline, or the end of data) and end before CR LF."""
    n = 0
    s = 0
    size = len(data)
    for p in range(size):
        if data[p] == 10:
            starts[n], ends[n] = s, p
            body_ends[n] = p - 1 if p > s and data[p - 1] == 13 else p
            n += 1
            s = p + 1
    if s < size:
        starts[n], ends[n] = s, size
        body_ends[n] = size - 1 if data[size - 1] == 13 else size
        n += 1
    return n


@_jit
def _newlines(data):  # pragma: no cover - compiled
    n = 0
    for c in data:
        n += c == 10
    return n


def split_lines(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (after its newline) and end of content (before CR LF) of every line of ``data``."""
    count = int(_newlines(data)) + 1
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    body_ends = np.empty(count, dtype=np.int64)
    n = _split(data, starts, ends, body_ends)
    return starts[:n], ends[:n], body_ends[:n]


def scan_key_cells(data: np.ndarray, line_starts: np.ndarray, line_ends: np.ndarray, column: int,
                   delim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    result = np.empty(len(line_starts), dtype=np.int8)
    cs = np.zeros(len(line_starts), dtype=np.int64)
    ce = np.zeros(len(line_starts), dtype=np.int64)
    _scan(data, line_starts, line_ends, column, delim, result, cs, ce)
    return result, cs, ce




@_jit
def _stats_lines(data, ncols, delim, values, numeric, decimals, cell_full, cell_num, cell_dec):  # pragma: no cover
    """``_stats`` in one pass over a block of whole quote-free lines (every CR is a CR LF's):
    each line's cells are judged as they are read and counted only when the line has exactly
    ``ncols`` of them. Per cell: 0 leading space, 1 after a sign, 2 whole digits, 3 fraction
    digits, 4 trailing space, 5 not a plain number."""
    rows = 0
    n = len(data)
    p = 0
    while p < n:
        col, st, whole, frac, empty = 0, 0, 0, 0, True
        line_empty = True
        while p <= n:
            c = data[p] if p < n else 10
            if c == 13:
                p += 1
                continue  # the CR of a CR LF: not part of the last cell
            if c == delim or c == 10:
                if col < ncols:
                    cell_full[col] = not empty
                    cell_num[col] = (st == 2 or st == 3 or st == 4) and (whole + frac > 0) or empty
                    cell_dec[col] = frac
                col += 1
                if c == 10:
                    p += 1
                    break
                st, whole, frac, empty = 0, 0, 0, True
                line_empty = False
                p += 1
                continue
            empty = False
            line_empty = False
            if st == 5:
                pass
            elif c == 32 or c == 9 or c == 12:
                if st == 2 or st == 3:
                    st = 4
                elif st == 1:
                    st = 5
            elif 48 <= c <= 57:
                if st == 0 or st == 1:
                    st, whole = 2, 1
                elif st == 2:
                    whole += 1
                elif st == 3:
                    frac += 1
                else:
                    st = 5
            elif c == 46:
                st = 3 if st <= 2 else 5
            elif c == 43 or c == 45:
                st = 1 if st == 0 else 5
            else:
                st = 5
            p += 1
        if line_empty or col != ncols:
            continue
        rows += 1
        for k in range(ncols):
            if cell_full[k]:
                values[k] += 1
                if numeric[k]:
                    if not cell_num[k]:
                        numeric[k] = False
                    elif cell_dec[k] > decimals[k]:
                        decimals[k] = cell_dec[k]
    return rows


def column_stats_block(data: np.ndarray, ncols: int, delim: int, values: np.ndarray, numeric: np.ndarray,
                       decimals: np.ndarray) -> int:
    """``column_stats`` of a block of whole lines, without splitting it into lines first."""
    full = np.zeros(ncols, dtype=np.bool_)
    num = np.zeros(ncols, dtype=np.bool_)
    dec = np.zeros(ncols, dtype=np.int64)
    return int(_stats_lines(data, ncols, delim, values, numeric, decimals, full, num, dec))
