"""A seller's quality guarantee over a quality report: parse it, check a report against it
(no Django).

A guarantee is a small JSON object frozen into the offer, the contract, its licence and
the delivery manifest (SPEC §5 ``"guarantee"``)::

    {"format": "shujiao-guarantee/1",
     "min_score": 80, "min_rows": 1000, "max_duplicate_share": 0.01,
     "max_null_share": {"text": 0.05}, "label_tolerance_pp": 5.0,
     "label_shares": {"pos": 0.66, "neg": 0.34},        # the listed report's shares, frozen
     "no_undeclared_personal_data": true, "personal_data_declared": false}

Every threshold is optional (null or absent: not guaranteed). Shares are fractions of the
rows (0 … 1); the label tolerance is in percentage points. ``evaluate`` returns one
:class:`Check` per guaranteed threshold, so a buyer, the seller and staff see exactly
which promise held and which did not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = "shujiao-guarantee/1"
KEYS = ("min_score", "min_rows", "max_duplicate_share", "max_null_share", "label_tolerance_pp",
        "no_undeclared_personal_data")
PII_KINDS = ("mobile", "email", "resident_id", "bank_card")


class GuaranteeError(ValueError):
    """A guarantee that cannot be parsed; ``fields`` names each problem."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    expected: str
    actual: str


@dataclass(frozen=True)
class Verdict:
    passed: bool
    checks: list[Check] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


def _number(value: Any, name: str, low: float, high: float, errors: dict, *, integer: bool = False):
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        errors[name] = ["A whole number." if integer else "A number."]
        return None
    if not low <= value <= high:
        errors[name] = [f"From {low:g} to {high:g}."]
        return None
    return value


def parse(raw: Any, *, columns: list[str]) -> dict[str, Any] | None:
    """Check a guarantee's shape and ranges; returns the normalised thresholds (no baseline
    yet) or None when nothing is guaranteed. Raises GuaranteeError naming each bad field."""
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise GuaranteeError({"guarantee": ["An object of thresholds, or null."]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - set(KEYS) - {"format", "label_shares", "personal_data_declared"})
    if unknown:
        errors["guarantee"] = [f"Unknown threshold(s): {', '.join(unknown)}; known: {', '.join(KEYS)}."]
    out: dict[str, Any] = {
        "min_score": _number(raw.get("min_score"), "min_score", 0, 100, errors, integer=True),
        "min_rows": _number(raw.get("min_rows"), "min_rows", 1, 10**15, errors, integer=True),
        "max_duplicate_share": _number(raw.get("max_duplicate_share"), "max_duplicate_share", 0, 1, errors),
        "label_tolerance_pp": _number(raw.get("label_tolerance_pp"), "label_tolerance_pp", 0, 100, errors),
    }
    nulls = raw.get("max_null_share") or {}
    if not isinstance(nulls, dict):
        errors["max_null_share"] = ["An object mapping column names to shares from 0 to 1."]
        nulls = {}
    clean_nulls: dict[str, float] = {}
    for column, share in nulls.items():
        if column not in columns:
            errors["max_null_share"] = [f"No column named {column!r}; columns: {', '.join(columns)}."]
            continue
        value = _number(share, "max_null_share", 0, 1, errors)
        if value is not None:
            clean_nulls[column] = value
    out["max_null_share"] = clean_nulls or None
    pii = raw.get("no_undeclared_personal_data", False)
    if not isinstance(pii, bool):
        errors["no_undeclared_personal_data"] = ["true or false."]
    out["no_undeclared_personal_data"] = pii is True
    if errors:
        raise GuaranteeError(errors)
    if all(out[k] in (None, False) for k in KEYS):
        return None
    return out


def freeze(thresholds: dict[str, Any], *, listed_report: dict[str, Any], personal_data_declared: bool) -> dict[str, Any]:
    """The guarantee as it is frozen: thresholds plus the baseline the label shares are held to."""
    frozen = {"format": FORMAT, **thresholds, "personal_data_declared": bool(personal_data_declared)}
    if thresholds.get("label_tolerance_pp") is not None:
        frozen["label_shares"] = {str(k): float(v) for k, v in ((listed_report.get("labels") or {}).get("shares") or {}).items()}
    return frozen


def _pct(share: float) -> str:
    return f"{100 * share:.2f}%"


def evaluate(guarantee: dict[str, Any], report: dict[str, Any]) -> Verdict:
    """Check a quality report against a frozen guarantee: one Check per guaranteed threshold."""
    checks: list[Check] = []
    rows = int(report.get("rows") or 0)
    if guarantee.get("min_score") is not None:
        score = int(report.get("score") or 0)
        checks.append(Check("min_score", score >= guarantee["min_score"], f"score ≥ {guarantee['min_score']}",
                            f"score {score}"))
    if guarantee.get("min_rows") is not None:
        checks.append(Check("min_rows", rows >= guarantee["min_rows"], f"≥ {guarantee['min_rows']} rows", f"{rows} rows"))
    if guarantee.get("max_duplicate_share") is not None:
        share = (int(report.get("duplicate_rows") or 0) / rows) if rows else 0.0
        checks.append(Check("max_duplicate_share", share <= guarantee["max_duplicate_share"] + 1e-12,
                            f"exact duplicates ≤ {_pct(guarantee['max_duplicate_share'])}", f"{_pct(share)}"))
    by_name = {c.get("name"): c for c in report.get("columns") or []}
    for column, limit in sorted((guarantee.get("max_null_share") or {}).items()):
        info = by_name.get(column)
        if info is None:
            checks.append(Check(f"max_null_share:{column}", False, f"nulls in {column} ≤ {_pct(limit)}",
                                "the column is missing"))
            continue
        share = (int(info.get("null_count") or 0) / rows) if rows else 0.0
        checks.append(Check(f"max_null_share:{column}", share <= limit + 1e-12, f"nulls in {column} ≤ {_pct(limit)}",
                            _pct(share)))
    if guarantee.get("label_tolerance_pp") is not None:
        tolerance = guarantee["label_tolerance_pp"]
        actual = (report.get("labels") or {}).get("shares") or {}
        baseline = guarantee.get("label_shares") or {}
        for label in sorted(set(baseline) | set(actual)):
            want, got = float(baseline.get(label, 0.0)), float(actual.get(label, 0.0))
            drift = abs(got - want) * 100
            checks.append(Check(f"label_share:{label}", drift <= tolerance + 1e-9,
                                f"{label} within ±{tolerance:g} pp of {_pct(want)}", f"{_pct(got)}"))
    if guarantee.get("no_undeclared_personal_data"):
        pii = report.get("pii") or {}
        found = sum(int(pii.get(kind) or 0) for kind in PII_KINDS)
        ok = found == 0 or bool(guarantee.get("personal_data_declared"))
        checks.append(Check("no_undeclared_personal_data", ok, "no undeclared personal data",
                            f"{found} personal-data item(s)" + (" (declared)" if found and ok else "")))
    return Verdict(passed=all(c.passed for c in checks), checks=checks)


def describe(guarantee: dict[str, Any] | None) -> list[str]:
    """The guarantee's promises as short sentences (licence text, listing and purchase pages)."""
    if not guarantee:
        return []
    lines = []
    if guarantee.get("min_score") is not None:
        lines.append(f"quality score at least {guarantee['min_score']} of 100")
    if guarantee.get("min_rows") is not None:
        lines.append(f"at least {guarantee['min_rows']} rows")
    if guarantee.get("max_duplicate_share") is not None:
        lines.append(f"exact duplicate rows at most {_pct(guarantee['max_duplicate_share'])}")
    for column, limit in sorted((guarantee.get("max_null_share") or {}).items()):
        lines.append(f"empty values in column {column} at most {_pct(limit)}")
    if guarantee.get("label_tolerance_pp") is not None:
        shares = ", ".join(f"{k} {_pct(v)}" for k, v in sorted((guarantee.get("label_shares") or {}).items()))
        lines.append(f"each label's share within ±{guarantee['label_tolerance_pp']:g} percentage points of the "
                     f"listed report ({shares})")
    if guarantee.get("no_undeclared_personal_data"):
        lines.append("no personal data beyond what the dataset declares")
    return lines
