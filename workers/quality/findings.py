"""Findings with stable codes, and making a report safe to store.

Each finding is {"code", "level" ("error" fails the gates, "warning" is listed in the
warnings, "info" only explains how the file was read), "message", ...details}. Gates and the score switch on codes (see score.py), never on message text.
"""

from __future__ import annotations

import re
from typing import Any

# stable codes (docs/quality.md lists them)
LINE_TOO_LONG = "line_too_long"
CONTROL_CHARACTERS = "control_characters"
MISSING_COLUMNS = "missing_declared_columns"
LINE_ENDINGS_MIXED = "line_endings_mixed"
JSON_ARRAY = "json_array"
ENCODING_DETECTED = "encoding_detected"
ENCODING_MISMATCH = "encoding_mismatch"
ENCODING_UNDECODABLE = "encoding_undecodable"

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
