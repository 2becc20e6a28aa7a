"""Findings with stable codes, and making a report safe to store.

Each finding is {"code", "level" ("error" fails the gates, "warning" is listed in the
warnings, "info" only explains how the file was read), "message", ...details}. Gates and the score switch on codes (see score.py), never on message text.
"""

from __future__ import annotations

import re
from typing import Any

# stable codes (docs/quality.md lists them); the level each is recorded with is in CODES
# the file is refused before any row is read (error)
FILE_EMPTY = "file_empty"
FILE_COMPRESSED = "file_compressed"      # gzip, zip (xlsx), bzip2, xz, zstd, 7z
FILE_NOT_TEXT = "file_not_text"          # PDF, binary content
ENCODING_UNSUPPORTED = "encoding_unsupported"  # UTF-32, UTF-16 without a byte-order mark
ENCODING_UNDECODABLE = "encoding_undecodable"  # no supported encoding decodes it (offset)
JSON_ARRAY = "json_array"
PARQUET_UNREADABLE = "parquet_unreadable"
HEADER_UNREADABLE = "header_unreadable"
SCHEMA_REFUSED = "schema_refused"        # the stored Table Schema is no longer accepted
# reading stopped (error)
LINE_TOO_LONG = "line_too_long"
ROW_TOO_LONG = "row_too_long"
READ_FAILED = "read_failed"              # could not read the file at all
READ_STOPPED = "read_stopped"            # could not read it to the end (rows so far counted)
# the figures (error or warning)
NO_ROWS = "no_rows"
MALFORMED_ROWS = "malformed_rows"        # error above QualityOptions.max_malformed_share
MISSING_COLUMNS = "missing_declared_columns"
PERSONAL_DATA_UNDECLARED = "personal_data_undeclared"      # found, schema says personalData: false
PERSONAL_DATA_NOT_DECLARED = "personal_data_not_declared"  # found, personalData not declared (warning)
# warnings
EXTRA_COLUMNS = "extra_columns"
DUPLICATE_COLUMN_NAMES = "duplicate_column_names"
EXTRA_KEYS = "extra_keys"                # JSON Lines keys not in the columns
PARQUET_TYPE_MISMATCH = "parquet_type_mismatch"
PRIMARY_KEY_DUPLICATES = "primary_key_duplicates"
FORMULA_CELLS = "formula_cells"
CONTROL_CHARACTERS = "control_characters"
LINE_ENDINGS_MIXED = "line_endings_mixed"
HEADER_MISSING = "header_missing"        # no header row: names generated (csvplan.py)
METADATA_LINES = "metadata_lines"        # lines before the header skipped (csvplan.py)
HEADER_MAYBE_DATA = "header_maybe_data"  # the row read as the header may be data: suggest header: false (info)
NESTED_VALUES = "nested_values"          # JSON Lines objects/arrays in cells (jsonl.py)
# info: how the file was read
ENCODING_DETECTED = "encoding_detected"  # which encoding and why (textinput.py)
ENCODING_MISMATCH = "encoding_mismatch"  # the first guess was refuted, the file read again
DIALECT_DIFFERS = "dialect_differs"      # declared CSV dialect differs from the sniffed one

# the codes that end reading: when one is present, "no data rows" is not said as well
READ_ENDED = frozenset({FILE_EMPTY, FILE_COMPRESSED, FILE_NOT_TEXT, ENCODING_UNSUPPORTED, ENCODING_UNDECODABLE,
                        JSON_ARRAY,
                        PARQUET_UNREADABLE, HEADER_UNREADABLE, SCHEMA_REFUSED, LINE_TOO_LONG, ROW_TOO_LONG,
                        READ_FAILED, READ_STOPPED})
# detect.REFUSED kinds -> code
REFUSED_CODES = {"empty": FILE_EMPTY, "json-array": JSON_ARRAY, "pdf": FILE_NOT_TEXT, "binary": FILE_NOT_TEXT,
                 "utf-16": ENCODING_UNSUPPORTED, "utf-32": ENCODING_UNSUPPORTED,
                 "unknown-encoding": ENCODING_UNDECODABLE}

# C0 controls except tab, LF, CR (and DEL): NUL included
CONTROL_RE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL = re.compile(CONTROL_RE)


def _escape(m: re.Match) -> str:
    return f"\\u{ord(m.group()):04x}"


def visible(s: str) -> str:
    """Control characters (NUL above all, which PostgreSQL refuses in text and jsonb)
    written as visible \\uXXXX escapes."""
    return _CONTROL.sub(_escape, s) if _CONTROL.search(s) else s


def scrub(obj: Any) -> Any:
    """A copy of a report (dicts, lists, strings) whose keys and strings hold no control
    characters: safe for PostgreSQL jsonb and for terminals."""
    if isinstance(obj, str):
        return visible(obj)
    if isinstance(obj, dict):
        return {visible(k) if isinstance(k, str) else k: scrub(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub(v) for v in obj]
    return obj


def add(prof: Any, code: str, level: str, message: str, **detail: Any) -> None:
    """Record a finding on a profiler; errors also fail the gates, warnings are listed."""
    prof.findings.append({"code": code, "level": level, "message": message, **detail})
    if level == "error":
        prof.failures.append(message)
    elif level == "warning":
        prof.warnings.append(message)


def add_dict(prof: Any, finding: dict[str, Any]) -> None:
    """Record a finding built elsewhere (csvplan, jsonl): same rules as add()."""
    f = dict(finding)
    add(prof, f.pop("code"), f.pop("level"), f.pop("message"), **f)


def error(prof: Any, code: str, message: str, **detail: Any) -> None:
    add(prof, code, "error", message, **detail)


def warning(prof: Any, code: str, message: str, **detail: Any) -> None:
    add(prof, code, "warning", message, **detail)


def has(prof: Any, codes: Any) -> bool:
    """Whether the profiler recorded a finding with one of these codes."""
    codes = {codes} if isinstance(codes, str) else codes
    return any(f["code"] in codes for f in prof.findings)


def control_cells(cols: list) -> list[int]:
    """Per column, how many cells hold a control character (vectorised, RE2)."""
    import pyarrow.compute as pc

    return [pc.match_substring_regex(c, CONTROL_RE).true_count for c in cols]


def control_finding(prof: Any, by_col: dict[str, int]) -> None:
    if not by_col:
        return
    total = sum(by_col.values())
    add(prof, CONTROL_CHARACTERS, "warning",
        f"{total} cells hold control characters such as NUL (shown as \\u0000 in this report): "
        + ", ".join(f"{visible(k)} ({n})" for k, n in list(by_col.items())[:20]),
        cells=total, by_column=dict(by_col))
