"""Quality score (0-100), grade (A-E) and its breakdown. Weights: see docs/quality.md."""

from __future__ import annotations

from typing import Any

from .findings import MISSING_COLUMNS

WEIGHTS = {
    "structure": 20,     # malformed rows
    "conformance": 20,   # values that do not parse as the declared type; missing columns
    "completeness": 20,  # empty cells
    "uniqueness": 15,    # duplicate rows and duplicate primary keys
    "labels": 15,        # outside-set, missing and conflicting labels, imbalance
    "compliance": 10,    # undeclared personal data, formula injection
}
GRADES = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))
# Table Schema constraint findings (report["findings"], by stable code): the score
# component their rows count against, and whether any violation fails a gate.
FINDING_RULES = {
    "constraint_required": ("conformance", True),
    "constraint_unique": ("uniqueness", True),
    "constraint_enum": ("conformance", False),
    "constraint_minimum": ("conformance", False),
    "constraint_maximum": ("conformance", False),
    "constraint_min_length": ("conformance", False),
    "constraint_max_length": ("conformance", False),
    "constraint_pattern": ("conformance", False),
}


def finding_counts(r: dict[str, Any]) -> dict[str, int]:
    """Violating cells per score component."""
    out: dict[str, int] = {}
    for f in r.get("findings") or []:
        if f["code"] in FINDING_RULES:  # constraint findings count cells; reading findings act by gate
            comp = FINDING_RULES[f["code"]][0]
            out[comp] = out.get(comp, 0) + f["count"]
    return out


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def grade_for(score: int, gates_passed: bool) -> str:
    if not gates_passed:
        return "E"
    for floor, g in GRADES:
        if score >= floor:
            return g
    return "E"


def score_report(r: dict[str, Any], prof: Any) -> tuple[int, str, dict[str, float]]:
    rows = r.get("rows") or 0
    if rows == 0:
        return 0, "E", {k: 0.0 for k in WEIGHTS}
    o = prof.options
    total = rows + r["malformed_rows"]
    cols = r["columns"]
    cells = rows * max(1, len(cols))
    nulls = sum(c["null_count"] for c in cols)
    filled = max(1, cells - nulls)
    found = finding_counts(r)
    invalid = sum(c["invalid_count"] for c in cols) + found.get("conformance", 0)
    share = max(o.max_malformed_share, 1e-9)
    parts: dict[str, float] = {}
    parts["structure"] = _clamp(1 - (r["malformed_rows"] / total) / share)
    conf = _clamp(1 - 10 * invalid / filled)
    if any(f["code"] == MISSING_COLUMNS for f in r.get("findings", [])):
        conf = 0.0
    parts["conformance"] = conf
    parts["completeness"] = _clamp(1 - nulls / cells)
    dup = r["duplicate_rows"] / rows
    pkd = (r.get("primary_key_duplicates") or 0) / rows
    ukd = found.get("uniqueness", 0) / rows
    parts["uniqueness"] = _clamp(1 - 10 * max(dup, pkd, ukd))
    lab = r.get("labels")
    if lab:
        bad = (lab["outside_set"] + lab["missing"]) / rows
        c = _clamp(1 - 5 * bad) * _clamp(1 - 10 * lab["conflicts"] / rows)
        ratio = lab["imbalance_ratio"]
        if ratio and ratio > 10:
            c *= 10 / ratio
        parts["labels"] = _clamp(c)
    else:
        parts["labels"] = 1.0
    pii_found = any(r["pii"][k] for k in ("mobile", "email", "resident_id", "bank_card"))
    comp = 0.0 if (pii_found and prof.personal_data is False) else 1.0
    if pii_found and prof.personal_data is None:
        comp *= 0.5
    comp *= _clamp(1 - 100 * r["formula_injection"] / cells)
    parts["compliance"] = comp
    score = round(sum(WEIGHTS[k] * v for k, v in parts.items()))
    passed = r["gates"]["passed"]
    return score, grade_for(score, passed), {k: round(WEIGHTS[k] * v, 2) for k, v in parts.items()}
