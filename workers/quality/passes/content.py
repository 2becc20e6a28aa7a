"""Content pass: personal data (mobile, e-mail, resident ID, bank card), cells that start
like a spreadsheet formula, and control characters.

Runs on the main thread. One vectorised regex pass over the joined rows finds the few
rows that could hold personal data or a formula (candidate_rows); only their cells are
checked one by one. Owns per-column counts, and the (redacted) examples.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import findings, pii
from ..arrowutil import offsets
from ..schema import NUMBER_RE

FORMULA_RE = r"^[=+\-@\t\r]"
# a row (fields joined by SEP) that may hold personal data or a formula-like cell
ROW_PREFILTER_RE = pii.PREFILTER_RE + r"|(^|\x1f)[=+\-@\t\r]"
# groups of rows searched as one value by the prefilter (see candidate_rows)
GROUP_ROWS = 32
GROUP_PREFILTER_RE = pii.PREFILTER_RE + r"|\x1f[=+\-@\t\r]"
FORMULA_LEADS = pa.array(["=", "+", "-", "@", "\t", "\r"], pa.string())
PII_KINDS = ("mobile", "email", "resident_id", "bank_card")
# examples of one kind at most (the rest of max_pii_examples goes to other kinds)
EXAMPLES_PER_KIND = 3


def candidate_rows(raw_key: pa.Array, first: pa.Array, n: int) -> pa.Array:
    """Indices (ascending) of the rows that may hold personal data or a formula-like cell.

    The search runs over groups of GROUP_ROWS consecutive rows taken as one value (the
    joined rows lie back to back in one buffer: a group is just every GROUP_ROWS-th
    offset), so the regex engine's per-value cost is paid once per group; only the rows
    of matching groups are searched one by one. A group contains each of its rows, so a
    row that matches always makes its group match, except for a formula character at the
    very start of a row (no separator before it inside a group): first cells are checked
    on their own. Callers check every candidate cell exactly, so extra candidates are
    harmless and none is missed.
    """
    if n <= 4 * GROUP_ROWS or raw_key.type != pa.string():
        return pc.indices_nonzero(pc.match_substring_regex(raw_key, ROW_PREFILTER_RE))
    bounds = offsets(raw_key).take(pa.array([*range(0, n, GROUP_ROWS), n], pa.int32()))
    groups = pa.Array.from_buffers(pa.string(), len(bounds) - 1,
                                   [None, bounds.buffers()[1], raw_key.buffers()[2]])
    parts = []
    hit = pc.indices_nonzero(pc.match_substring_regex(groups, GROUP_PREFILTER_RE)).to_pylist()
    if hit:
        idx = pa.array([r for g in hit for r in range(g * GROUP_ROWS, min(n, (g + 1) * GROUP_ROWS))],
                       pa.uint64())
        parts.append(idx.filter(pc.match_substring_regex(raw_key.take(idx), ROW_PREFILTER_RE)))
    lead = pc.is_in(pc.utf8_slice_codeunits(first, 0, 1), value_set=FORMULA_LEADS)
    if lead.true_count:
        parts.append(pc.indices_nonzero(lead))
    if not parts:
        return pa.array([], pa.uint64())
    if len(parts) == 1:
        return parts[0]
    return pc.unique(pa.concat_arrays(parts)).sort()


class ContentPass:
    def __init__(self, header: list[str], personal_data: bool | None, max_examples: int):
        self.header = header
        self.personal_data = personal_data
        self.max_examples = max_examples
        self.pii_by_col: list[dict[str, int]] = [{} for _ in header]
        self.examples: list[str] = []
        self.example_kinds: dict[str, int] = {}
        self.formula = 0
        self.formula_by_col: dict[str, int] = {}
        self.control_by_col: dict[str, int] = {}

    def count_control(self, cols: list[pa.Array]) -> None:
        for name, k in zip(self.header, findings.control_cells(cols), strict=True):
            if k:
                self.control_by_col[name] = self.control_by_col.get(name, 0) + k

    def add(self, cols: list[pa.Array], raw_key: pa.Array, melt: pa.Array, n: int) -> None:
        rows = candidate_rows(raw_key, cols[0], n)
        if not len(rows):
            return
        pre, fml = [], []
        for ci, col in enumerate(cols):
            sub = col.take(rows)
            base = pa.scalar(ci * n, pa.uint64())
            m = pc.match_substring_regex(sub, pii.PREFILTER_RE)
            if m.true_count:
                pre.append(pc.add(rows.filter(m), base))
            f = pc.match_substring_regex(sub, FORMULA_RE)
            if f.true_count:
                fml.append(pc.add(rows.filter(f), base))
        if pre:
            self._pii(melt, pa.concat_arrays(pre), n)
        if fml:
            idx = pa.concat_arrays(fml)
            cand = melt.take(idx)
            notnum = pc.invert(pc.match_substring_regex(cand, NUMBER_RE))
            cnt = notnum.true_count
            if cnt:
                self.formula += cnt
                colidx = pc.divide(idx.filter(notnum), pa.scalar(n, pa.uint64())).to_pylist()
                for ci in colidx:
                    name = self.header[ci]
                    self.formula_by_col[name] = self.formula_by_col.get(name, 0) + 1

    def _pii(self, melt: pa.Array, idx: pa.Array, n: int) -> None:
        cand = melt.take(idx)
        colof = pc.divide(idx, pa.scalar(n, pa.uint64()))
        want_examples = len(self.examples) < self.max_examples
        for kind, pattern in (("mobile", pii.MOBILE_RE2), ("email", pii.EMAIL_RE2)):
            m = pc.match_substring_regex(cand, pattern)
            if not m.true_count:
                continue
            counts = pc.value_counts(colof.filter(m))
            for ci, cnt in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
                d = self.pii_by_col[ci]
                d[kind] = d.get(kind, 0) + cnt
            if want_examples or self.personal_data is False:
                rx = pii.MOBILE if kind == "mobile" else pii.EMAIL
                for s in cand.filter(m).slice(0, 5).to_pylist():
                    found = rx.search(s)
                    if found:
                        self._example(kind, found.group())
        long = pc.match_substring_regex(cand, pii.LONG_DIGITS_RE2)
        if long.true_count:
            cells = cand.filter(long).to_pylist()
            cis = colof.filter(long).to_pylist()
            for s, ci in zip(cells, cis, strict=True):
                ids, cards = pii.id_and_card_matches(s)
                d = self.pii_by_col[ci]
                if ids:
                    d["resident_id"] = d.get("resident_id", 0) + 1
                    self._example("resident_id", ids[0])
                if cards:
                    d["bank_card"] = d.get("bank_card", 0) + 1
                    self._example("bank_card", cards[0])

    def _example(self, kind: str, s: str) -> None:
        if len(self.examples) >= self.max_examples:
            return
        if self.example_kinds.get(kind, 0) >= EXAMPLES_PER_KIND:
            return
        red = pii.redact(s)
        if red not in self.examples:
            self.examples.append(red)
            self.example_kinds[kind] = self.example_kinds.get(kind, 0) + 1

    def pii_result(self) -> dict[str, Any]:
        """The report's `pii` section (counts, per column, redacted examples)."""
        by_col = {self.header[i]: dict(d) for i, d in enumerate(self.pii_by_col) if d}
        out: dict[str, Any] = {k: sum(d.get(k, 0) for d in by_col.values()) for k in PII_KINDS}
        out["by_column"] = by_col
        out["examples"] = self.examples
        return out
