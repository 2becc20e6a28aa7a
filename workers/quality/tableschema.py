"""Glue between the profiler and the Table Schema modules (fields.py, constraints.py).

The profiler calls four functions: prepare() once per pass, null_mask_columns() and
check_batch() per batch, report_findings() at the end. Nothing here imports Django.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from . import findings
from .constraints import FieldCheck
from .fields import FieldSpec, is_null_text, null_mask_columns
from .score import FINDING_RULES

__all__ = ["check_batch", "is_null_text", "null_mask_columns", "prepare", "refused_schema_report",
           "report_findings"]


def refused_schema_report(problems: list[str]) -> dict[str, Any]:
    """The report for a stored schema that validation no longer accepts (e.g. saved before
    a property was refused): no data profiled, one gate failure naming the properties."""
    from .options import QualityOptions
    from .profiler import Profiler

    prof = Profiler(None, QualityOptions(), None, None, None)
    findings.error(prof, findings.SCHEMA_REFUSED, "the dataset's Table Schema is not accepted: " + "; ".join(problems),
                   problems=list(problems))
    return prof.finish(None)


def prepare(prof: Any, header: list[str]) -> tuple[list[tuple[str, ...]], dict[int, FieldCheck]]:
    """(null values per column, {column index: FieldCheck} for fields that need one)."""
    schema = prof.schema or {}
    default = tuple(dict.fromkeys(prof.missing_values))
    native = prof.report.get("format") in ("jsonl", "parquet")
    o = prof.options
    specs: dict[int, FieldSpec] = {}
    null_sets: list[tuple[str, ...]] = []
    for i, h in enumerate(header):
        desc = prof.fields.get(h)
        if desc is None:
            null_sets.append(default)
            continue
        spec = FieldSpec.from_descriptor(desc, schema)
        spec.native = native
        null_sets.append(spec.missing)
        if not spec.plain:
            specs[i] = spec
    n_unique = sum(1 for s in specs.values() if s.constraints.get("unique"))
    budget = (o.memory_limit_bytes // 32) // max(1, n_unique)
    checks = {i: FieldCheck(s, max_rows=o.max_examples, spill_dir=o.spill_dir, unique_budget=budget,
                            threaded=o.reader_threads)
              for i, s in specs.items()}
    return null_sets, checks


def check_batch(checks: dict[int, FieldCheck], colstate: list[Any], cols: list[pa.Array],
                empty: pa.Array, n: int, offset: int) -> None:
    """Type check + constraints of the checked columns; the profiler's column figures
    (invalid_count, min, max) are taken from the checks."""
    for i, chk in checks.items():
        chk.add(cols[i], empty.slice(i * n, n), offset)
        c = colstate[i]
        c.invalid = chk.invalid
        c.min, c.max = chk.report_min, chk.report_max


def report_findings(r: dict[str, Any], checks: dict[int, FieldCheck], failures: list[str]) -> None:
    """report["findings"]: one entry per field and violated constraint (stable `code`,
    `count`, first `rows`); codes whose rule is a gate add a gate failure."""
    out: list[dict[str, Any]] = []
    for chk in checks.values():
        out.extend(chk.findings())
    r["findings"] = out
    for f in out:
        if FINDING_RULES.get(f["code"], ("", False))[1]:
            rows = ", ".join(str(x) for x in f["rows"][:5])
            failures.append(f"{f['code']}: column {f['field']} breaks constraints.{f['constraint']} "
                            f"in {f['count']} rows (first rows {rows})")
