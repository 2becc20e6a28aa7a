"""Per-buyer fingerprints of tabular data (SPEC §12): plan, mark, trace. No Django here.

    plan = plan_file(original, "csv", schema=schema, options=FingerprintOptions(gamma=20))
    sel = selection_key(secret, version_id)
    mark_file(original, out, "csv", plan=plan, selection=sel, contract=contract_key(secret, version_id, cid))
    result = trace(leak, sniff_format(head, name), plan=plan, selection=sel, candidates={cid: key, ...})

The scheme follows Agrawal & Kiernan (2002, keyed tuple/attribute selection, bit in a
low-order position) and Li, Swarup & Jajodia (2005, positions from the owner's key,
bits from each buyer's fingerprint). docs/fingerprints.md says what it survives.
"""

from .keys import contract_key, selection_key
from .mark import HashingWriter, KeyColumnsMissing, MarkResult, mark_file, plan_file
from .plan import SCHEME, FingerprintOptions, MarkColumn, Plan, bound_text, build_plan
from .tables import FORMATS, TableError, read_rows, sniff_format
from .trace import DEFAULT_ALPHA, Score, TraceResult, binomial_tail, cells_needed, min_rows, trace

__all__ = [
    "DEFAULT_ALPHA", "FORMATS", "SCHEME", "FingerprintOptions", "HashingWriter", "KeyColumnsMissing", "MarkColumn",
    "MarkResult", "Plan", "Score", "TableError", "TraceResult", "binomial_tail", "bound_text",
    "build_plan", "cells_needed", "contract_key", "mark_file", "min_rows", "plan_file", "read_rows",
    "selection_key", "sniff_format", "trace",
]
