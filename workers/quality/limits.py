"""How big the stored report may get (docs/quality.md, "Report size").

A value the report quotes from the file (a top value, a text column's min/max, a sample cell)
is cut to VALUE_CHARS code points; the cut is said where it happens (a top value carries
`truncated: true` and its full `length`) and counted in `report["truncated"]`. When the whole
report is still over REPORT_BYTES as JSON, sample rows are dropped from the end, then every
string is cut to VALUE_CHARS. Pure code.
"""

from __future__ import annotations

import json
from typing import Any

VALUE_CHARS = 200
REPORT_BYTES = 1 << 20  # 1 MiB of JSON
ELLIPSIS = "…"


def cut(text: str, limit: int = VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` code points, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _size(r: dict[str, Any]) -> int:
    return len(json.dumps(r, ensure_ascii=False, default=str).encode("utf-8"))


def _cut_all(v: Any, counter: list[int]) -> Any:
    if isinstance(v, str):
        if len(v) > VALUE_CHARS:
            counter[0] += 1
            return cut(v)
        return v
    if isinstance(v, list):
        return [_cut_all(x, counter) for x in v]
    if isinstance(v, dict):
        return {k: _cut_all(x, counter) for k, x in v.items()}
    return v


def cap_report(r: dict[str, Any]) -> dict[str, Any]:
    """Cut the values a report quotes and keep the report under REPORT_BYTES (in place, and returned)."""
    done = {"value_chars": VALUE_CHARS, "top_values": 0, "min_max": 0, "sample_cells": 0}
    for c in r.get("columns") or []:
        stats = c.get("stats") if isinstance(c, dict) else None
        if isinstance(stats, dict):
            done["top_values"] += sum(1 for t in stats.get("top_values") or [] if t.get("truncated"))
        for k in ("min", "max"):
            if isinstance(c, dict) and isinstance(c.get(k), str) and len(c[k]) > VALUE_CHARS:
                c[k] = cut(c[k])
                done["min_max"] += 1
    sample = r.get("sample") or []
    for row in sample:
        for k, v in row.items():
            if isinstance(v, str) and len(v) > VALUE_CHARS:
                row[k] = cut(v)
                done["sample_cells"] += 1
    if _size(r) > REPORT_BYTES:
        while sample and _size(r) > REPORT_BYTES:
            sample.pop()
            done["sample_rows_dropped"] = done.get("sample_rows_dropped", 0) + 1
        if _size(r) > REPORT_BYTES:
            counter = [0]
            for k in list(r):
                r[k] = _cut_all(r[k], counter)
            done["strings"] = counter[0]
    if any(v for k, v in done.items() if k != "value_chars"):
        r["truncated"] = done
    return r
