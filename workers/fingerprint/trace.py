"""Name the contract a leaked table came from.

For every candidate contract the leak's marked cells are compared with the bits that
contract's key would have written: ``n`` cells compared, ``m`` agree. A copy that was
never given to that buyer agrees on each cell with probability 1/2, independently
(the bits are a PRF of a key the leaker does not hold), so the chance that an innocent
contract agrees as often is the binomial tail ``P[Bin(n, 1/2) >= m]``. With ``N``
candidates, the chance that *some* innocent one does is at most ``N`` times that
(union bound); a contract is named only when that figure is at most ``alpha``.

Rows are matched to marks by their key, never by position, so a reordered, cut or
merged file still scores. Only the ``max_rows`` selected rows with the smallest
selection digests are scored (the same rows for every candidate, whatever the file's
order), which bounds the work per candidate whatever the leak's size.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any, BinaryIO

from .keys import V2, bits_function, digest_function, is_selected, threshold
from .mark import RowKeys
from .plan import Plan
from .tables import read_columns
from .values import scaled, text_bit

DEFAULT_ALPHA = 1e-6
DEFAULT_MAX_ROWS = 1024  # >= 1,024 cells: 30 decide among 1,000 candidates, ~170 with 40 % randomised


def _log_term(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)


def _sum_from(n: int, start: int, step: int) -> float:
    """Sum of P[Bin(n, 1/2) = k] from ``start`` away from the mean (terms only shrink), stopping
    once a term is e^-50 below the first."""
    first = _log_term(n, start)
    total, k = 0.0, start
    while 0 <= k <= n:
        t = _log_term(n, k)
        if t < first - 50:
            break
        total += math.exp(t - first)
        k += step
    return math.exp(first) * total


def binomial_tail(n: int, m: int) -> float:
    """``P[Bin(n, 1/2) >= m]``, exact in log space (no overflow for any n); above the mean the
    tail is summed upwards, at or below it the complement downwards (each a few dozen terms)."""
    if m <= 0:
        return 1.0
    if m > n:
        return 0.0
    if 2 * m > n:
        return min(1.0, _sum_from(n, m, +1))
    return max(0.0, min(1.0, 1.0 - _sum_from(n, m - 1, -1)))


def cells_needed(candidates: int, alpha: float = DEFAULT_ALPHA) -> int:
    """Marked cells a perfect copy needs for a verdict: the smallest n with N * 2^-n <= alpha."""
    return max(1, math.ceil(math.log2(max(1, candidates) / alpha)))


MARGIN = 2  # rows for twice the cells a verdict needs: a random subset that size falls short about once in 10^4


def min_rows(plan: Plan, candidates: int, alpha: float = DEFAULT_ALPHA) -> int | None:
    """The stated minimum: rows an unaltered copy must keep (every marked column kept) for a
    verdict; None when nothing can be marked."""
    per_row = plan.rate * len(plan.columns)
    return None if per_row <= 0 else math.ceil(MARGIN * cells_needed(candidates, alpha) / per_row)


@dataclass(frozen=True)
class Score:
    contract: str
    cells: int
    agree: int
    p_innocent: float  # chance one innocent contract agrees this often
    p_any_innocent: float  # chance any of the N innocent candidates does (union bound)
    named: bool

    @property
    def agreement(self) -> float:
        return self.agree / self.cells if self.cells else 0.0


@dataclass(frozen=True)
class TraceResult:
    rows_read: int
    rows_scored: int
    cells_needed: int
    alpha: float
    scores: tuple[Score, ...]  # best first
    problem: str = ""

    @property
    def named(self) -> tuple[Score, ...]:
        return tuple(s for s in self.scores if s.named)

    @property
    def best(self) -> Score | None:
        return self.scores[0] if self.scores else None

    @property
    def runner_up(self) -> Score | None:
        return self.scores[1] if len(self.scores) > 1 else None


def _selected(plan: Plan, header: list[str], rows: Any, selection: bytes, read: list[int]) -> Any:
    """(digest, row) of every selected row, row by row; ``read[0]`` counts the rows read."""
    keys = RowKeys(plan, header).fn
    limit = threshold(plan.rate)
    digest_of = digest_function(plan.scheme, selection)
    for row in rows:
        read[0] += 1
        digest = digest_of(keys(row))
        if is_selected(digest, limit):
            yield digest, row


def _observed(plan: Plan, header: list[str], selected: Any, max_rows: int) -> list:
    """For each selected row (in file order), its digest and the marks it holds; the ``max_rows``
    with the smallest digests are kept."""
    pos = {name: i for i, name in enumerate(header)}
    cols = [(j, pos[c.name], c) for j, c in enumerate(plan.columns) if c.name in pos]
    heap: list[tuple[int, bytes, list[tuple[int, int]]]] = []  # max-heap on the digest (negated)
    seen: set[bytes] = set()
    for digest, row in selected:
        if digest in seen:
            continue
        rank = -int.from_bytes(digest[:8], "big")
        if len(heap) >= max_rows and rank <= heap[0][0]:
            continue  # could not enter the heap whatever it holds: its cells need not be read
        obs = []
        for j, i, col in cols:
            v = row[i] if i < len(row) else None
            if col.kind == "decimal":
                n = scaled(v, col.decimals)
                bit = None if n is None else n & 1
            else:
                bit = text_bit(v)
            if bit is not None:
                obs.append((j, bit))
        if not obs:
            continue
        if len(heap) < max_rows:
            heapq.heappush(heap, (rank, digest, obs))
            seen.add(digest)
        elif rank > heap[0][0]:
            _, old, _ = heapq.heapreplace(heap, (rank, digest, obs))
            seen.discard(old)
            seen.add(digest)
    return [(d, o) for _, d, o in heap]


def _read_selected(f: BinaryIO, fmt: str, plan: Plan, selection: bytes, read: list[int]) -> tuple[list[str], Any]:
    """The leak's header and its selected rows: in batches (columnar.selected_in_batches) when
    the format and key allow, else row by row. Both give the same rows in the same order."""
    wanted = [*plan.key_columns, *(c.name for c in plan.columns)]
    from .columnar import selected_in_batches

    found = selected_in_batches(f, fmt, plan, wanted, selection, read)
    if found is not None:
        return found
    f.seek(0)
    header, rows = read_columns(f, fmt, wanted)
    return header, _selected(plan, header, rows, selection, read)


def _disagreements(scheme: str, packed: list[tuple[bytes, int, int]], candidates: dict[str, bytes]) -> Any:
    """(contract id, cells where the leak's bits differ from that contract's) for every candidate.
    Up to 64 marked columns, each candidate's bits for all rows come from one compiled BLAKE2b
    call (batch.Hasher.low_bits) and the count from one popcount; wider plans, row by row."""
    import numpy as np

    from . import batch  # numba loads only where a trace runs, not in every importer of the package

    width = max((c.bit_length() for _, c, _ in packed), default=1)
    if batch.AVAILABLE and packed and width <= 64:
        data = np.frombuffer(b"".join(d for d, _, _ in packed), dtype=np.uint8)
        starts = np.arange(len(packed), dtype=np.int64) * 16
        ends = starts + 16
        masks = np.array([m for _, m, _ in packed], dtype=np.uint64)
        held = np.array([h for _, _, h in packed], dtype=np.uint64)
        if scheme == V2:
            from .siphash import low_bits

            digests = [d for d, _, _ in packed]
        for contract_id, key in candidates.items():
            bits = low_bits(key, digests) if scheme == V2 else batch.Hasher(key, 64).low_bits(data, starts, ends)
            yield contract_id, int(np.bitwise_count((bits ^ held) & masks).sum())
        return
    for contract_id, key in candidates.items():
        bits_of = bits_function(scheme, key, width)
        yield contract_id, sum(((bits_of(digest) ^ held) & mask).bit_count() for digest, mask, held in packed)


def trace(f: BinaryIO, fmt: str, *, plan: Plan, selection: bytes, candidates: dict[str, bytes],
          alpha: float = DEFAULT_ALPHA, max_rows: int = DEFAULT_MAX_ROWS) -> TraceResult:
    """Score every candidate (contract id -> contract key) against the leaked table ``f``.

    A duplicate row key (a leak merging two copies of the same row) is scored once: its
    first copy by digest order, so a merge cannot count one row twice for one buyer.
    """
    counter = [0]
    header, selected = _read_selected(f, fmt, plan, selection, counter)
    observed = _observed(plan, header, selected, max_rows)
    read = counter[0]
    total_cells = sum(len(o) for _, o in observed)
    n_cand = max(1, len(candidates))
    # Each observed row as (digest, mask of its marked columns, the bits the leak holds there):
    # a candidate's disagreements are then popcount((its bits ^ held) & mask).
    packed = [(d, sum(1 << j for j, _ in obs), sum(bit << j for j, bit in obs)) for d, obs in observed]
    scores = []
    for contract_id, disagree in _disagreements(plan.scheme, packed, candidates):
        agree = total_cells - disagree
        p = binomial_tail(total_cells, agree) if total_cells else 1.0
        p_any = min(1.0, p * n_cand)
        scores.append(Score(contract=contract_id, cells=total_cells, agree=agree, p_innocent=p,
                            p_any_innocent=p_any, named=total_cells > 0 and p_any <= alpha))
    scores.sort(key=lambda s: (s.p_innocent, -s.agree, s.contract))
    problem = ""
    if not plan.columns:
        problem = "the dataset has no markable column: its copies carry no fingerprint"
    elif not total_cells:
        problem = "the file holds no marked cell of this dataset (wrong dataset, or every marked column dropped)"
    return TraceResult(rows_read=read, rows_scored=len(observed), cells_needed=cells_needed(n_cand, alpha),
                       alpha=alpha, scores=tuple(scores), problem=problem)
