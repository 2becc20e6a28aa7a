"""The end of a check: the passes' figures into the report dict, then gates and score.

Gate failures and warnings keep the order they had before the restructure: reading
findings (recorded while reading), primary key, Table Schema constraints, no rows,
malformed rows, personal data, formulas, control characters, line endings.
"""

from __future__ import annotations

from typing import Any

from . import findings, tableschema
from .limits import cap_report
from .passes.content import PII_KINDS
from .report import SCHEMA_VERSION
from .score import score_deductions, score_report

PII_NAMES = {"mobile": "mobile numbers", "email": "e-mail addresses",
             "resident_id": "resident identity numbers", "bank_card": "bank card numbers"}


def skeleton() -> dict[str, Any]:
    """The report of a file nothing could be read from (every key present)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "format": None, "encoding": None, "delimiter": None, "bytes": 0, "header": [],
        "rows": 0, "malformed_rows": 0, "malformed_examples": [], "duplicate_rows": 0, "near_duplicate_rows": 0,
        "columns": [], "labels": None,
        "pii": {"mobile": 0, "email": 0, "resident_id": 0, "bank_card": 0, "by_column": {},
                "examples": []},
        "formula_injection": 0, "formula_injection_by_column": {}, "sample": [],
        "score": 0, "grade": "E", "score_breakdown": {}, "score_deductions": [],
        "gates": {"passed": False, "failures": []}, "warnings": [], "findings": [],
        "line_endings": None,
    }


def finish_report(prof: Any, pipe: Any, malformed_lines: list[int] | None) -> dict[str, Any]:
    r = prof.report
    if pipe is not None:
        _figures(prof, pipe, r, malformed_lines or [])
        _gates(prof, pipe, r)
    guard = prof.guard
    if guard is not None and guard.line_endings is not None:
        r["line_endings"] = le = guard.summary()
        if le["kind"] == "mixed" and not any(f["code"] == findings.LINE_ENDINGS_MIXED for f in prof.findings):
            findings.add(prof, findings.LINE_ENDINGS_MIXED, "warning",
                         f"mixed line endings: {le['lf']} LF, {le['crlf']} CRLF, {le['cr']} CR "
                         "(all read as line breaks)", **{k: le[k] for k in ("lf", "crlf", "cr")})
    r["findings"] = [*prof.findings, *r.get("findings", [])]  # reading findings, then constraint findings
    r["warnings"] = list(dict.fromkeys(prof.warnings))
    r["gates"] = {"passed": not prof.failures, "failures": list(dict.fromkeys(prof.failures))}
    score, grade, breakdown = score_report(r, prof)
    r["score"], r["grade"], r["score_breakdown"] = score, grade, breakdown
    r["score_deductions"] = score_deductions(r, prof, score)
    if pipe is not None:
        prof.tick(r["rows"], r["bytes"], 100.0, final=True)
    return cap_report(findings.scrub(r))


def _figures(prof: Any, pipe: Any, r: dict[str, Any], malformed_lines: list[int]) -> None:
    """Every figure of the passes (no judgement yet)."""
    pipe.wait()
    rows = pipe.rows
    r["rows"] = rows
    r["malformed_rows"] = pipe.row_numbers.malformed
    r["malformed_examples"] = malformed_lines
    r["blank_lines"] = pipe.blank_lines
    r["sample"] = pipe.sample.rows
    finals = pipe.final_counts()
    distinct_rows = finals["rows"] if rows else 0
    r["duplicate_rows"] = rows - distinct_rows
    r["near_duplicate_rows"] = (None if not pipe.keys.counts_near
                                else rows - finals["near_rows"] if rows else 0)
    r["columns"] = pipe.column_results()
    r["pii"] = pipe.content.pii_result()
    r["formula_injection"] = pipe.content.formula
    r["formula_injection_by_column"] = pipe.content.formula_by_col
    if pipe.keys.counts_pk:
        r["primary_key_duplicates"] = rows - finals["pk"]
    elif prof.primary_key:
        r["primary_key_duplicates"] = None
    if pipe.labels is not None:
        r["labels"] = pipe.labels.result(rows, finals)
    elif prof.label_field:
        r["labels"] = None
    r["control_characters"] = {"cells": sum(pipe.content.control_by_col.values()),
                               "by_column": pipe.content.control_by_col}


def _gates(prof: Any, pipe: Any, r: dict[str, Any]) -> None:
    """Gate failures and warnings from the figures."""
    o = prof.options
    pkd = r.get("primary_key_duplicates")
    if pkd:
        findings.warning(prof, findings.PRIMARY_KEY_DUPLICATES,
                         f"{pkd} rows repeat an earlier primary key ({', '.join(prof.primary_key)})", rows=pkd)
    tableschema.report_findings(r, pipe.columns.checks, prof.failures)
    rows, malformed = pipe.rows, pipe.row_numbers.malformed
    if rows == 0 and not findings.has(prof, findings.READ_ENDED):
        findings.error(prof, findings.NO_ROWS,
                       "no data rows" + (" (the file has only a header)" if pipe.n and not malformed else ""))
    total = rows + malformed
    lines = r["malformed_examples"][:5]
    if total and malformed / total > o.max_malformed_share:
        findings.error(prof, findings.MALFORMED_ROWS,
                       f"{malformed} of {total} rows ({100 * malformed / total:.2f}%) have the wrong "
                       f"number of fields, more than the {100 * o.max_malformed_share:g}% allowed; first at lines "
                       + ", ".join(str(x) for x in lines), rows=malformed, lines=lines)
    elif malformed:
        findings.warning(prof, findings.MALFORMED_ROWS,
                         f"{malformed} rows have the wrong number of fields (excluded)", rows=malformed, lines=lines)
    p = r["pii"]
    found = {k: p[k] for k in PII_KINDS if p[k]}
    if found and prof.personal_data is False:
        findings.error(prof, findings.PERSONAL_DATA_UNDECLARED,
                       "personal data found although the schema declares personalData: false: "
                       + ", ".join(f"{n} {PII_NAMES[k]}" for k, n in found.items())
                       + " (columns: " + ", ".join(p["by_column"]) + ")", counts=found, columns=list(p["by_column"]))
    elif found:
        if prof.personal_data is None:
            findings.warning(prof, findings.PERSONAL_DATA_NOT_DECLARED,
                             "personal data found; declare personalData in the schema", counts=found)
    if pipe.content.formula:
        findings.warning(prof, findings.FORMULA_CELLS,
                         f"{pipe.content.formula} cells start like a spreadsheet formula", cells=pipe.content.formula)
    findings.control_finding(prof, pipe.content.control_by_col)
