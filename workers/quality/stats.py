"""Column statistics a buyer of labelled data reads (no Django): streaming accumulators.

Fed one batch at a time (string columns, missing cells excluded by the caller), with
vectorised pyarrow kernels. Memory per column is bounded: a numeric column keeps at most
``exact_limit`` values (exact median and histogram); above that a uniform sample of that
many values (bottom-k by a pseudo-random priority) gives an approximate median and
histogram, marked ``approximate: true``. count/min/max/mean/std and the string length
figures are always computed over every value (exact up to floating-point rounding); top
values are exact counts, reported only for columns with at most LOW_CARDINALITY distinct
values. Definitions: docs/quality.md, "Statistics".
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .keys import _mix
from .limits import ELLIPSIS, VALUE_CHARS
from .schema import PATTERNS

BINS = 10
TOP_VALUES = 10
LOW_CARDINALITY = 30
EXACT_LIMIT = 100_000
NUMERIC = ("integer", "number")
_F64 = pa.float64()
_U64 = pa.uint64()


def _to_float(vals: pa.Array, t: str | None) -> pa.Array | None:
    """The values as float64; the ones that are not numbers of type t are dropped for a
    declared column (they are counted as invalid elsewhere); None for an undeclared column
    holding a non-number (it is not numeric)."""
    try:
        return vals.cast(_F64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    ok = pc.match_substring_regex(vals, PATTERNS[t or "number"])
    if t is None and ok.false_count:
        return None
    vals = vals.filter(ok)
    try:
        return vals.cast(_F64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = []
        for s in vals.to_pylist():
            try:
                out.append(float(s))
            except ValueError:
                continue
        return pa.array(out, _F64)


class NumericStats:
    """count, min, max, mean, sample std (Chan's merge of per-batch moments), median and a
    10-bin histogram (exact from the kept values, approximate from the sample above)."""

    __slots__ = ("declared", "alive", "n", "mean", "m2", "lo", "hi", "non_finite", "kept", "prio",
                 "seen", "limit", "cut")

    def __init__(self, declared: str | None, limit: int):
        self.declared = declared
        self.alive = True
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.lo = self.hi = None
        self.non_finite = 0
        self.kept: list[pa.Array] = []
        self.prio: pa.Array | None = None  # set once the values are sampled
        self.seen = 0
        self.limit = limit
        self.cut: int | None = None

    @property
    def approximate(self) -> bool:
        return self.prio is not None

    def add(self, vals: pa.Array) -> None:
        if not self.alive or not len(vals):
            return
        f = _to_float(vals, self.declared)
        if f is None:
            self.alive = False
            self.kept, self.prio = [], None
            return
        fin = pc.is_finite(f)
        if fin.false_count:
            self.non_finite += fin.false_count
            f = f.filter(fin)
        nb = len(f)
        if not nb:
            return
        mm = pc.min_max(f)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)
        mb = pc.mean(f).as_py()
        m2b = pc.variance(f, ddof=0).as_py() * nb
        tot = self.n + nb
        delta = mb - self.mean
        self.mean += delta * nb / tot
        self.m2 += m2b + delta * delta * self.n * nb / tot
        self.n = tot
        self._keep(f)

    def _keep(self, f: pa.Array) -> None:
        start = self.seen
        self.seen += len(f)
        if self.prio is None:
            self.kept.append(f)
            if self.seen <= self.limit:
                return
            f = pa.concat_arrays(self.kept)
            start, self.kept, self.prio = 0, [], pa.array([], _U64)
        # a uniform sample: the `limit` values of smallest pseudo-random priority. New values
        # above the current cut can never enter; the buffer is cut back to `limit` values
        # only when it has doubled (few selections over the whole file)
        p = _mix(pc.add(_positions(len(f)), pa.scalar(start + 0x5DEECE66D, _U64)))
        if self.cut is not None:
            low = pc.less(p, pa.scalar(self.cut, _U64))
            if low.false_count:
                f, p = f.filter(low), p.filter(low)
        self.kept.append(f)
        self.prio = pa.concat_arrays([self.prio, p])
        if len(self.prio) > 2 * self.limit or self.cut is None:
            self._select()

    def _select(self) -> None:
        vals = pa.concat_arrays(self.kept) if len(self.kept) != 1 else self.kept[0]
        prio = self.prio
        if len(prio) > self.limit:
            idx = pc.bottom_k_unstable(prio, self.limit)
            vals, prio = vals.take(idx), prio.take(idx)
            self.cut = pc.max(prio).as_py()
        self.kept, self.prio = [vals], prio

    def result(self, integer: bool) -> dict[str, Any] | None:
        if not self.alive:
            return None
        out: dict[str, Any] = {"kind": "numeric", "count": self.n, "non_finite": self.non_finite,
                               "min": None, "max": None, "mean": None, "median": None, "std": None,
                               "histogram": None, "approximate": self.approximate,
                               "approximate_fields": ["median", "histogram"] if self.approximate else []}
        if not self.n:
            return out
        if self.prio is not None:
            self._select()
        vals = pa.concat_arrays(self.kept) if len(self.kept) != 1 else self.kept[0]
        median = pc.quantile(vals, q=0.5, interpolation="linear")[0].as_py()
        out.update(min=_num(self.lo, integer), max=_num(self.hi, integer), mean=self.mean, median=median,
                   std=math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else None,
                   histogram=_histogram(vals, self.lo, self.hi, self.n, integer))
        return out


_POSITIONS: list[pa.Array] = [pa.array([], _U64)]


def _positions(n: int) -> pa.Array:
    """0 .. n-1 as uint64 (cached; a slice of one array)."""
    if len(_POSITIONS[0]) < n:
        _POSITIONS[0] = pa.array(range(max(n, 2 * len(_POSITIONS[0]))), _U64)
    return _POSITIONS[0].slice(0, n)


def _num(v: float, integer: bool) -> float | int:
    return int(v) if integer and v == int(v) else v


def _histogram(vals: pa.Array, lo: float, hi: float, total: int, integer: bool) -> dict[str, list]:
    """BINS equal-width bins from lo to hi (the last one closed); counts scaled to `total`
    when vals is a sample. One bin when all values are equal."""
    if hi == lo:
        return {"bin_edges": [_num(lo, integer), _num(hi, integer)], "counts": [total]}
    width = (hi - lo) / BINS
    idx = pc.floor(pc.divide(pc.subtract(vals, pa.scalar(lo, _F64)), pa.scalar(width, _F64))).cast(pa.int64())
    idx = pc.max_element_wise(pc.min_element_wise(idx, pa.scalar(BINS - 1, pa.int64())), pa.scalar(0, pa.int64()))
    vc = pc.value_counts(idx)
    counts = [0] * BINS
    for b, c in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
        counts[b] = c
    if len(vals) != total:
        counts = _scaled(counts, total)
    edges = [lo + i * width for i in range(BINS)] + [hi]
    return {"bin_edges": edges, "counts": counts}


def _scaled(counts: list[int], total: int) -> list[int]:
    """Counts scaled to sum to total (largest remainders get the rounding)."""
    s = sum(counts)
    raw = [c * total / s for c in counts]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[: total - sum(out)]:
        out[i] += 1
    return out


def _held(v: str) -> str | tuple[str, bytes, int]:
    """How a top value is held: short ones as they are, long ones as (prefix, digest, length), so a 64 MiB
    cell costs a few hundred bytes and two long values sharing a prefix still count apart (exactly, up to
    a 128-bit digest)."""
    if len(v) <= VALUE_CHARS:
        return v
    return (v[:VALUE_CHARS], hashlib.blake2b(v.encode("utf-8", "surrogatepass"), digest_size=16).digest(), len(v))


def _order(k: str | tuple[str, bytes, int]) -> tuple[str, bytes]:
    return (k, b"") if isinstance(k, str) else (k[0], k[1])


class TextStats:
    """Length (code points) min/max/mean over every non-missing value, and exact value
    counts while the column has at most LOW_CARDINALITY distinct values."""

    __slots__ = ("n", "lmin", "lmax", "lsum", "counts")

    def __init__(self) -> None:
        self.n = 0
        self.lmin = self.lmax = None
        self.lsum = 0
        self.counts: dict[str, int] | None = {}

    def add(self, vals: pa.Array) -> None:
        if not len(vals):
            return
        lengths = pc.utf8_length(vals)
        mm = pc.min_max(lengths)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        self.lmin = lo if self.lmin is None else min(self.lmin, lo)
        self.lmax = hi if self.lmax is None else max(self.lmax, hi)
        self.lsum += pc.sum(lengths).as_py()
        self.n += len(vals)
        if self.counts is None:
            return
        vc = pc.value_counts(vals)
        if len(vc) > LOW_CARDINALITY:
            self.counts = None
            return
        d = self.counts
        for v, c in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
            k = _held(v)
            d[k] = d.get(k, 0) + c
        if len(d) > LOW_CARDINALITY:
            self.counts = None

    def top_values(self) -> list[dict[str, Any]] | None:
        if self.counts is None or not self.n:
            return None
        top = sorted(self.counts.items(), key=lambda kv: (-kv[1], _order(kv[0])))[:TOP_VALUES]
        out = []
        for k, c in top:
            if isinstance(k, str):
                out.append({"value": k, "count": c, "share": c / self.n})
            else:  # a long value: its first VALUE_CHARS code points, said to be cut, with its full length
                out.append({"value": k[0][: VALUE_CHARS - 1] + ELLIPSIS, "count": c, "share": c / self.n, "truncated": True, "length": k[2]})
        return out

    def result(self, with_lengths: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "string" if with_lengths else "values", "count": self.n,
                               "approximate": False, "approximate_fields": []}
        if with_lengths:
            out["length"] = {"min": self.lmin, "max": self.lmax,
                             "mean": self.lsum / self.n if self.n else None}
        out["top_values"] = self.top_values()
        return out


class ColumnStatistics:
    """The statistics of every column of one file. `add` takes the batch's string columns
    and the profiler's missing-value mask (all columns one after another, n rows each)."""

    def __init__(self, declared: list[str | None], exact_limit: int = EXACT_LIMIT):
        self.declared = declared
        self.numeric = [NumericStats(t, exact_limit) if t is None or t in NUMERIC else None for t in declared]
        self.text = [TextStats() if t not in NUMERIC else None for t in declared]

    def add(self, cols: list[pa.Array], empty: pa.Array, n: int) -> None:
        for i, col in enumerate(cols):
            num, text = self.numeric[i], self.text[i]
            if (num is None or not num.alive) and text is None:
                continue
            e = empty.slice(i * n, n)
            vals = col.filter(pc.invert(e)) if e.true_count else col
            if num is not None:
                num.add(vals)
            if text is not None:
                text.add(vals)

    def result(self, i: int, final_type: str) -> dict[str, Any] | None:
        """The column's statistics for its final (declared or inferred) type."""
        num, text = self.numeric[i], self.text[i]
        if final_type in NUMERIC and num is not None and num.alive:
            return num.result(final_type == "integer")
        if text is not None:
            return text.result(final_type in ("string", "any"))
        return None


def label_shares(distribution: dict[str, int], rows: int) -> dict[str, float]:
    """Each label's share of all rows (with the outside-set and missing shares, they sum to 1)."""
    return {k: (v / rows if rows else 0.0) for k, v in distribution.items()}
