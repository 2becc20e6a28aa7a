"""Is the first line a header, a line of metadata, or already data?

Decided on the first rows (parsed with the delimiter in use), column by column:

- leading lines with another number of fields than the rows after them (a title, "exported
  2024-01-01") are metadata: skipped, shown in the report;
- a first line that puts numbers over numeric columns *and* words over numeric columns is
  metadata too: scikit-learn's iris.csv starts with `150,4,setosa,versicolor,virginica`
  (row count, column count, class names) above rows of numbers;
- a first line whose every cell has the type of its column (numbers over numeric columns,
  dates over date columns, at least one such column) is data: the file has no header, and the
  columns are named after the schema's fields when their number matches, else column_1 … column_n;
- otherwise the first line is the header (text over text cannot be told from data, so a file
  of words keeps today's reading: declare `header: false` in the dialect when it has none); but
  when its values also occur as ordinary values of their columns below it, or its filled cells
  over typed columns all have their column's type (some being empty), the decision says why it
  may be data (`suspect`, finding `header_maybe_data` suggesting `header: false`).

A declared dialect (`header`, `headerRows`) is used as declared, never second-guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .dialect import Dialect

_NUMBER = re.compile(r"^\s*[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?%?\s*$")
_DATE = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$")
MAX_METADATA_LINES = 10
TYPED_SHARE = 0.9
# leading rows count as metadata only when this share of the rows below have one field count
CONSISTENT_SHARE = 0.8


@dataclass(frozen=True)
class HeaderDecision:
    skip_rows: int                 # rows before the data (metadata lines and header rows)
    header_rows: tuple[int, ...]   # 1-based row numbers holding the header; () when none
    names: tuple[str, ...]
    generated: bool                # names made up (no header in the file)
    metadata: tuple[str, ...]      # the metadata lines skipped (cut to 200 characters)
    reason: str
    declared: bool = False         # from the seller's dialect
    suspect: str = ""              # why the row taken as the header may be data (finding header_maybe_data)

    def to_dict(self) -> dict:
        out = {"header_rows": list(self.header_rows), "skip_rows": self.skip_rows, "names_generated": self.generated,
               "metadata_lines": list(self.metadata), "reason": self.reason, "declared": self.declared}
        if self.suspect:
            out["suspect"] = self.suspect
        return out


def kind(cell: str) -> str:
    if not cell.strip():
        return ""
    if _NUMBER.match(cell):
        return "number"
    if _DATE.match(cell):
        return "date"
    return "text"


def generated_names(n: int, declared: list[str] | None) -> tuple[str, ...]:
    if declared and len(declared) == n:
        return tuple(declared)
    return tuple(f"column_{i}" for i in range(1, n + 1))


def _show(row: list[str], delimiter: str) -> str:
    s = delimiter.join(row)
    return s if len(s) <= 200 else s[:199] + "…"


def from_dialect(rows: list[list[str]], dialect: Dialect, declared_names: list[str] | None,
                 delimiter: str) -> HeaderDecision | None:
    has = dialect.has_header
    if has is None:
        return None
    width = Counter(len(r) for r in rows).most_common(1)[0][0] if rows else 0
    if not has:
        return HeaderDecision(0, (), generated_names(width, declared_names), True, (),
                              "the dialect declares header: false", declared=True)
    hrows = dialect.headerRows or (1,)
    picked = [rows[i - 1] for i in hrows if i - 1 < len(rows)]
    if not picked:
        return HeaderDecision(0, tuple(hrows), (), False, (), "the declared header rows are beyond the end of the file",
                              declared=True)
    width = max(len(r) for r in picked)
    names = tuple(" ".join(p for p in (r[i].strip() if i < len(r) else "" for r in picked) if p)
                  for i in range(width))
    skipped = tuple(_show(rows[i], delimiter) for i in range(hrows[-1]) if i + 1 not in hrows and i < len(rows))
    how = f"the dialect declares header rows {list(hrows)}" if dialect.headerRows else "the dialect declares header: true"
    return HeaderDecision(hrows[-1], tuple(hrows), names, False, skipped, how, declared=True)


def detect_header(rows: list[list[str]], *, delimiter: str = ",", declared_names: list[str] | None = None,
                  dialect: Dialect | None = None) -> HeaderDecision:
    """rows: the first records of the file (say 50), parsed; the last may be cut."""
    if dialect is not None:
        got = from_dialect(rows, dialect, declared_names, delimiter)
        if got is not None:
            return got
    if len(rows) < 2:
        names = tuple(rows[0]) if rows else ()
        return HeaderDecision(1 if rows else 0, (1,) if rows else (), names, False, (),
                              "one line only: taken as the header")
    width, same = Counter(len(r) for r in rows[1:]).most_common(1)[0]
    lead = 0
    # a first row naming the declared fields is the header, whatever follows
    names_declared = bool(declared_names) and all(c.strip() in declared_names for c in rows[0] if c.strip())
    if not names_declared and same >= 2 and same >= CONSISTENT_SHARE * (len(rows) - 1):
        while lead < min(MAX_METADATA_LINES, len(rows) - 2) and len(rows[lead]) != width:
            lead += 1
        if len(rows[lead]) != width:
            lead = 0  # no stretch of consistent rows: leave it to the malformed-row count
    why = []
    if lead:
        why.append(f"{lead} row(s) before it have another number of fields than the {width} of the rows below")
    types = _column_types(rows[lead + 1:], width)
    verdict = _judge(rows[lead], types, declared_names)
    if verdict == "metadata" and lead == 0 and len(rows) > 2:
        why.append("row 1 puts numbers and words over numeric columns: metadata, not a header")
        lead = 1
        types = _column_types(rows[2:], width)
        verdict = _judge(rows[1], types, declared_names)
    metadata = tuple(_show(r, delimiter) for r in rows[:lead])
    if verdict == "data":
        why.append(f"row {lead + 1} has the type of every column (numbers over numbers): data, no header")
        return HeaderDecision(lead, (), generated_names(width, declared_names), True, metadata, "; ".join(why))
    if verdict == "metadata":  # a second odd line: take it as the header, as it stands
        why.append(f"row {lead + 1} taken as the header")
    else:
        why.insert(0, f"row {lead + 1} is the header")
    suspect = "" if names_declared else _looks_like_data(rows[lead], rows[lead + 1:], types, lead + 1)
    return HeaderDecision(lead + 1, (lead + 1,), tuple(rows[lead]), False, metadata, "; ".join(why), suspect=suspect)


def _looks_like_data(row: list[str], body: list[list[str]], types: list[str], number: int) -> str:
    """Why the row taken as the header may be data ("" when nothing says so): its values recur as ordinary
    values of their columns below it, or every non-empty cell over a typed column has that type (the evidence
    of ``_judge``, short of a verdict only because some of those cells are empty)."""
    width = len(row)
    if any(r == row for r in body):
        return ""  # the header line repeated below (files joined end to end): a header, not data
    recurring = []
    for i, cell in enumerate(row):
        v = cell.strip()
        if v and any(len(r) == width and r[i].strip() == v for r in body):
            recurring.append(v)
    if recurring:
        shown = ", ".join(repr(v if len(v) <= 40 else v[:39] + "…") for v in recurring[:3])
        return (f"row {number}'s values {shown} also occur as values of their columns below it, so row {number} "
                "may be data")
    typed = [(kind(c), t) for c, t in zip(row, types, strict=False) if t != "text"]
    filled = [(k, t) for k, t in typed if k]
    if filled and len(filled) < len(typed) and all(k == t for k, t in filled):
        return (f"every filled cell of row {number} over a numeric or date column has that column's type, so "
                f"row {number} may be data")
    return ""


def _column_types(rows: list[list[str]], width: int) -> list[str]:
    """Per column: "number"/"date" when at least 90% of its non-empty cells are, else "text"."""
    out = []
    for i in range(width):
        kinds = Counter(k for r in rows if len(r) == width and (k := kind(r[i])))
        total = sum(kinds.values())
        top, n = kinds.most_common(1)[0] if kinds else ("text", 0)
        out.append(top if total and top != "text" and n >= TYPED_SHARE * total else "text")
    return out


def _judge(row: list[str], types: list[str], declared_names: list[str] | None) -> str:
    """'header', 'data' or 'metadata' for one candidate line."""
    if declared_names and any(c.strip() in declared_names for c in row):
        return "header"
    typed = [(kind(c), t) for c, t in zip(row, types, strict=False) if t != "text"]
    if not typed:
        return "header"
    matched = sum(1 for k, t in typed if k == t)
    words = sum(1 for k, _t in typed if k == "text")
    if matched and words:
        return "metadata"
    if matched == len(typed):
        return "data"
    return "header"
