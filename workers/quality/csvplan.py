"""How to read a CSV/TSV file, decided on its decoded head: delimiter, quoting, header rows,
metadata lines, column names; declared dialect values beat sniffed ones (both reported).

`plan_csv(text, ...)` returns a CsvPlan whose `read_kwargs`/`parse_kwargs` go to
pyarrow.csv.ReadOptions/ParseOptions as they are. pyarrow's `skip_rows` counts physical lines
(it is not quote-aware), so the plan counts the lines of the skipped records itself.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import Any

from .dialect import LINE_TERMINATORS, Dialect, DialectFilter, compare, parse_kwargs
from .header import HeaderDecision, detect_header
from .lines import universal_newlines
from .sniff import sniff_delimiter

SAMPLE_ROWS = 50
HEADER_MISSING = "header_missing"
METADATA_LINES = "metadata_lines"
HEADER_MAYBE_DATA = "header_maybe_data"
DIALECT_DIFFERS = "dialect_differs"


@dataclass
class CsvPlan:
    delimiter: str
    header: HeaderDecision
    skip_lines: int                 # physical lines before the data (pyarrow skip_rows)
    parse_kwargs: dict[str, Any]
    names: list[str]
    dialect: dict[str, Any]         # report["dialect"]: declared, sniffed, used, differ
    findings: list[dict[str, Any]] = field(default_factory=list)
    filter: DialectFilter | None = None
    skipped_comment_lines: int = 0  # comment lines among the skip_lines (not read as rows)

    @property
    def read_kwargs(self) -> dict[str, Any]:
        return {"skip_rows": self.skip_lines, "column_names": list(self.names)}


def _records(text: str, delimiter: str, dialect: Dialect | None) -> list[tuple[int, list[str]]]:
    """The first non-blank records as (physical lines read up to its end, fields)."""
    d = dialect or Dialect()
    kw: dict[str, Any] = {"delimiter": delimiter, "quotechar": d.quoteChar or '"',
                          "doublequote": True if d.doubleQuote is None and d.escapeChar is None else bool(d.doubleQuote),
                          "skipinitialspace": bool(d.skipInitialSpace)}
    if d.escapeChar:
        kw["escapechar"] = d.escapeChar
    lines = text.split("\n")
    complete = text.endswith("\n")
    src = io.StringIO("\n".join(lines[: SAMPLE_ROWS * 4 + 1]) if len(lines) > SAMPLE_ROWS * 4 else text)
    out = []
    reader = csv.reader(src, **kw)
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                out.append((reader.line_num, row))
            if len(out) >= SAMPLE_ROWS:
                break
    except csv.Error:
        pass
    if out and not complete and out[-1][0] >= len(lines) and len(out) > 1:
        out.pop()  # the head's last record may be cut
    return out


def plan_from_head(head: bytes, codec: str, *, kind: str, dialect: Dialect | None = None,
                   declared_names: list[str] | None = None) -> CsvPlan:
    """How to read a CSV/TSV file, from its raw head decoded with ``codec``: the one planning step of every
    reader of CSV/TSV (the quality check, the buyer's Parquet copy), so both read the same columns and rows.
    ``dialect``: the seller's declared CSV Dialect (declared beats sniffed); ``declared_names``: the Table
    Schema's field names (names a file without a header). A byte that does not decode is the stream's to find."""
    text = universal_newlines(codecs.getincrementaldecoder(codec)("replace").decode(head))
    return plan_csv(text, kind=kind, dialect=dialect, declared_names=declared_names)


def plan_csv(text: str, *, kind: str, dialect: Dialect | None = None,
             declared_names: list[str] | None = None, line_endings: str | None = None) -> CsvPlan:
    """text: the decoded head, line breaks normalised to LF."""
    sample = _uncommented(text, dialect)
    sniffed_delim = "\t" if kind == "tsv" else sniff_delimiter(sample)
    delim = (dialect.delimiter if dialect else None) or sniffed_delim
    recs = _records(sample, delim, dialect)
    rows = [r for _, r in recs]
    sniffed_header = detect_header(rows, delimiter=delim, declared_names=declared_names)
    chosen = detect_header(rows, delimiter=delim, declared_names=declared_names, dialect=dialect)
    # records before the data, as physical lines (blank lines between them included)
    skip = recs[chosen.skip_rows - 1][0] if 0 < chosen.skip_rows <= len(recs) else 0
    sniffed = {"delimiter": sniffed_delim, "header": bool(sniffed_header.header_rows),
               "headerRows": list(sniffed_header.header_rows)}
    if line_endings in ("LF", "CRLF", "CR"):
        sniffed["lineTerminator"] = {v: k for k, v in LINE_TERMINATORS.items()}[line_endings]
    report = compare(dialect, sniffed)
    report["header"] = chosen.to_dict()
    filt = DialectFilter(dialect, delim) if dialect is not None and dialect.needs_filter else None
    plan = CsvPlan(delim, chosen, skip, parse_kwargs(dialect, sniffed_delim), list(chosen.names), report,
                   filter=filt)
    if filt is not None and dialect.commentChar and skip:
        probe = DialectFilter(Dialect(commentChar=dialect.commentChar), delim)
        probe.feed("".join(text.split("\n")[i] + "\n" for i in range(min(skip, text.count("\n")))).encode(), final=True)
        plan.skipped_comment_lines = probe.comment_lines
    _findings(plan)
    return plan


def _uncommented(text: str, dialect: Dialect | None) -> str:
    if not dialect or not dialect.commentChar:
        return text
    f = DialectFilter(Dialect(commentChar=dialect.commentChar), ",")
    return f.feed(text.encode("utf-8"), final=True).decode("utf-8", "replace")


def _findings(plan: CsvPlan) -> None:
    h = plan.header
    out = plan.findings
    if h.metadata:
        out.append({"code": METADATA_LINES, "level": "warning",
                    "message": f"{len(h.metadata)} line(s) before the {'header' if h.header_rows else 'data'} "
                               f"skipped as metadata: " + " | ".join(h.metadata[:3]) + f" ({h.reason})",
                    "lines": list(h.metadata)})
    if h.generated:
        out.append({"code": HEADER_MISSING, "level": "warning",
                    "message": f"no header row ({h.reason}); columns named " + ", ".join(h.names[:5])
                               + (" …" if len(h.names) > 5 else ""),
                    "names": list(h.names)})
    if h.suspect:
        out.append({"code": HEADER_MAYBE_DATA, "level": "info",
                    "message": f"row {h.header_rows[-1]} was read as the header, but {h.suspect.split(', so ')[0]}: "
                               "if the file has no header, declare \"header\": false in the dataset's CSV dialect",
                    "row": h.header_rows[-1], "reason": h.suspect, "suggest": {"header": False}})
    d = plan.dialect
    if d["differ"]:
        out.append({"code": DIALECT_DIFFERS, "level": "info",
                    "message": "the declared CSV dialect differs from what was sniffed (declared values used): "
                               + ", ".join(f"{k} declared {d['declared'][k]!r}, sniffed {d['sniffed'][k]!r}"
                                           for k in d["differ"]),
                    "properties": list(d["differ"])})


def line_endings_seen(dialect_report: dict[str, Any], kind: str | None) -> dict[str, Any] | None:
    """At the end of the file: the line endings found become the sniffed lineTerminator; a
    declared one that differs is reported (every ending is read as a line break anyway)."""
    if kind not in ("LF", "CRLF", "CR"):
        return None
    term = {v: k for k, v in LINE_TERMINATORS.items()}[kind]
    dialect_report["sniffed"]["lineTerminator"] = term
    declared = dialect_report["declared"].get("lineTerminator")
    dialect_report["used"].setdefault("lineTerminator", term)
    if declared is None or declared == term:
        return None
    dialect_report["differ"].append("lineTerminator")
    return {"code": DIALECT_DIFFERS, "level": "info",
            "message": f"the dialect declares lineTerminator {declared!r} but the lines end with {term!r} "
                       "(every line ending is read as a line break)", "properties": ["lineTerminator"]}
