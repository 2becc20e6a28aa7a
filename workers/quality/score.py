"""Quality score (0-100), grade (A-E) and its breakdown. Weights: see docs/quality.md."""

from __future__ import annotations

from typing import Any

from .findings import MISSING_COLUMNS, PERSONAL_DATA_NOT_DECLARED, PERSONAL_DATA_UNDECLARED

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


# reason codes of the deductions, in the order they are applied within a component
REASONS = {
    "no_rows": "the file has no readable data rows",
    "malformed_rows": "rows with the wrong number of fields",
    "missing_columns": "declared columns are missing",
    "invalid_values": "values that do not parse as the declared type or break a Table Schema constraint",
    "empty_cells": "empty or missing cells",
    "duplicate_rows": "rows identical to an earlier row",
    "primary_key_duplicates": "rows repeating an earlier primary key",
    "unique_constraint": "values repeating in a column whose Table Schema says unique",
    "labels_outside_or_missing": "labels outside the declared set or missing",
    "label_conflicts": "the same input carries different labels",
    "label_imbalance": "largest class more than 10x the smallest",
    "personal_data_undeclared": "personal data found although personalData is false",
    "personal_data_not_declared": "personal data found and personalData is not declared",
    "formula_injection": "cells that start like a spreadsheet formula",
}


def _factors(r: dict[str, Any], prof: Any) -> dict[str, list[tuple[str, float]]]:
    """Per component, its (reason code, factor 0..1) list; the component value is the
    product of its factors (an empty list is 1)."""
    rows = r["rows"]
    o = prof.options
    total = rows + r["malformed_rows"]
    cols = r["columns"]
    cells = rows * max(1, len(cols))
    nulls = sum(c["null_count"] for c in cols)
    filled = max(1, cells - nulls)
    found = finding_counts(r)
    invalid = sum(c["invalid_count"] for c in cols) + found.get("conformance", 0)
    share = max(o.max_malformed_share, 1e-9)
    f: dict[str, list[tuple[str, float]]] = {k: [] for k in WEIGHTS}
    f["structure"].append(("malformed_rows", _clamp(1 - (r["malformed_rows"] / total) / share)))
    codes = {x["code"] for x in r.get("findings", [])}
    if MISSING_COLUMNS in codes:
        f["conformance"].append(("missing_columns", 0.0))
    else:
        f["conformance"].append(("invalid_values", _clamp(1 - 10 * invalid / filled)))
    f["completeness"].append(("empty_cells", _clamp(1 - nulls / cells)))
    dup = r["duplicate_rows"] / rows
    pkd = (r.get("primary_key_duplicates") or 0) / rows
    ukd = found.get("uniqueness", 0) / rows  # Table Schema `unique` constraint violations
    worst, code = max((dup, "duplicate_rows"), (pkd, "primary_key_duplicates"), (ukd, "unique_constraint"))
    f["uniqueness"].append((code, _clamp(1 - 10 * worst)))
    lab = r.get("labels")
    if lab:
        bad = (lab["outside_set"] + lab["missing"]) / rows
        f["labels"].append(("labels_outside_or_missing", _clamp(1 - 5 * bad)))
        f["labels"].append(("label_conflicts", _clamp(1 - 10 * lab["conflicts"] / rows)))
        ratio = lab["imbalance_ratio"]
        if ratio and ratio > 10:
            f["labels"].append(("label_imbalance", _clamp(10 / ratio)))
    if PERSONAL_DATA_UNDECLARED in codes:
        f["compliance"].append(("personal_data_undeclared", 0.0))
    elif PERSONAL_DATA_NOT_DECLARED in codes:
        f["compliance"].append(("personal_data_not_declared", 0.5))
    f["compliance"].append(("formula_injection", _clamp(1 - 100 * r["formula_injection"] / cells)))
    return f


def _value(factors: list[tuple[str, float]]) -> float:
    v = 1.0
    for _, x in factors:
        v *= x
    return _clamp(v)


def score_report(r: dict[str, Any], prof: Any) -> tuple[int, str, dict[str, float]]:
    rows = r.get("rows") or 0
    if rows == 0:
        return 0, "E", {k: 0.0 for k in WEIGHTS}
    parts = {k: _value(v) for k, v in _factors(r, prof).items()}
    score = round(sum(WEIGHTS[k] * v for k, v in parts.items()))
    passed = r["gates"]["passed"]
    return score, grade_for(score, passed), {k: round(WEIGHTS[k] * v, 2) for k, v in parts.items()}


def score_deductions(r: dict[str, Any], prof: Any, score: int) -> list[dict[str, Any]]:
    """Every deduction from 100: component, its weight, reason code and text, points lost.

    Within a component the factors apply one after another, each deduction being what its
    factor takes from what is left (weight × (1 − f1), weight × f1 × (1 − f2), …), so the
    deductions of a component add up to weight × (1 − value). A last ``rounding`` entry
    (|points| < 0.5) makes the points add up to exactly 100 − score.
    """
    out: list[dict[str, Any]] = []
    if not (r.get("rows") or 0):
        out.append({"component": None, "weight": 100, "code": "no_rows", "reason": REASONS["no_rows"],
                    "points": float(100 - score)})
        return out
    exact_total = 0.0
    for comp, factors in _factors(r, prof).items():
        w, left = WEIGHTS[comp], 1.0
        for code, x in factors:
            lost = w * left * (1 - x)
            left *= x
            if lost > 1e-9:
                points = round(lost, 2)
                exact_total += points
                out.append({"component": comp, "weight": w, "code": code, "reason": REASONS[code],
                            "points": points})
    rest = round((100 - score) - exact_total, 2)
    if rest:
        out.append({"component": None, "weight": 0, "code": "rounding",
                    "reason": "the score is rounded to a whole number", "points": rest})
    return out
