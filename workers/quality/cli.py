"""Command line: python -m workers.quality FILE [--schema SCHEMA.json] [--json].

Exit status: 0 gates pass, 1 gates fail (bad files included), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .options import QualityOptions
from .profiler import profile
from .report import ABSENT, Report
from .schema import validate_table_schema


def _summary(r: Report) -> str:
    lines = [
        f"format: {r.format}  encoding: {r.encoding}  bytes: {r.bytes}",
        f"rows: {r.rows}  malformed: {r.malformed_rows}"
        + (f" (lines {', '.join(map(str, r.malformed_examples))})" if r.malformed_examples else "")
        + f"  duplicates: {r.duplicate_rows}",
    ]
    if r.primary_key_duplicates is not ABSENT:
        lines.append(f"primary key duplicates: {r.primary_key_duplicates}")
    for c in r.columns:
        approx = "~" if c.distinct_approximate else ""
        lines.append(f"  {c.name} ({c.type}): nulls {c.null_count}, distinct {approx}{c.distinct_count}, "
                     f"invalid {c.invalid_count}, min {c.min!r}, max {c.max!r}")
    lab = r.labels
    if lab:
        lines.append(f"labels ({lab.column}): {lab.distribution}, outside set {lab.outside_set}, "
                     f"missing {lab.missing}, imbalance {lab.imbalance_ratio}, conflicts {lab.conflicts}")
    p = r.pii
    lines.append(f"personal data: mobile {p.mobile}, email {p.email}, resident id {p.resident_id}, "
                 f"bank card {p.bank_card}" + (f" e.g. {', '.join(p.examples)}" if p.examples else ""))
    lines.append(f"formula injection: {r.formula_injection}")
    lines.append(f"score: {r.score}  grade: {r.grade}")
    for w in r.warnings:
        lines.append(f"warning: {w}")
    lines.append("gates: passed" if r.passed else "gates: FAILED (" + ", ".join(r.gate_codes()) + ")")
    for f in r.failures:
        lines.append(f"  - {f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_quality", description="Profile a data file's quality.")
    parser.add_argument("file")
    parser.add_argument("--schema", help="Table Schema JSON file")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    schema = None
    if args.schema:
        try:
            schema = json.loads(Path(args.schema).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            print(f"error: cannot read schema {args.schema}: {exc}", file=sys.stderr)
            return 2
        errors = validate_table_schema(schema)
        if errors:
            print("error: invalid schema: " + "; ".join(errors), file=sys.stderr)
            return 2
    report = profile(path, schema, options=QualityOptions())
    typed = Report.from_dict(report)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(_summary(typed))
    return 0 if typed.passed else 1


if __name__ == "__main__":
    sys.exit(main())
