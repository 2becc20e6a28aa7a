"""Row numbers: physical line numbers of the first malformed CSV rows.

The CSV parser reports a malformed row by its row number; newlines inside quoted values
of earlier rows shift the physical line. The reader thread records the malformed rows
(`note_invalid`), the key thread the good rows holding newlines (`track`), until the
last example needed is behind it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


class RowNumbers:
    def __init__(self, max_examples: int):
        self.max_examples = max_examples
        self.malformed = 0
        self.examples: list[tuple[int, int]] = []  # (row number or line, newlines in text)
        self.nl_records: list[tuple[int, int]] = []  # (good row index, embedded newlines)
        self.tracking = True

    def note_invalid(self, number: int, text: str) -> None:
        """A malformed row (reader thread)."""
        self.malformed += 1
        if len(self.examples) < self.max_examples:
            self.examples.append((number, text.count("\n")))

    def track(self, row_key: pa.Array, offset: int) -> None:
        """Good rows with embedded newlines (key thread)."""
        if not self.tracking:
            return
        has = pc.match_substring(row_key, "\n")
        if has.true_count:
            cnt = pc.count_substring(row_key, "\n")
            nz = pc.indices_nonzero(cnt)
            for i, c in zip(nz.to_pylist(), cnt.take(nz).to_pylist(), strict=True):
                self.nl_records.append((offset + i, c))
        ex = self.examples
        if len(ex) >= self.max_examples:
            # good rows before the last example: its row number minus the header and
            # the malformed rows before it.
            r_last = ex[self.max_examples - 1][0]
            if offset + len(row_key) >= r_last - 1 - self.max_examples:
                self.tracking = False

    def lines(self, header_nl: int) -> list[int]:
        """Physical line numbers of the first malformed rows (call after the key thread
        has finished: Pipeline.wait)."""
        ex = self.examples[: self.max_examples]
        marks = [m for m, _ in ex]
        # row number of each good row that contained newlines
        good: list[tuple[int, int]] = []
        for g, c in self.nl_records:
            r = g + 2
            for m in marks:
                if m <= r:
                    r += 1
                else:
                    break
            good.append((r, c))
        out = []
        for k, (r, _nl) in enumerate(ex):
            extra = header_nl + sum(c for gr, c in good if gr < r) + sum(ex[j][1] for j in range(k))
            out.append(r + extra)
        return out
