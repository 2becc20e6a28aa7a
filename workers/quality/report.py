"""The quality report as typed dataclasses: Report.from_dict / to_dict.

profile() returns the report as a plain dict (JSON, stored as is in jsonb); these classes
read that dict, including reports stored before `schema_version` existed (read as
version 1), and write it back key for key: ``Report.from_dict(d).to_dict() == d``
for every report the profiler writes. Keys a class does not know are kept in `extra` and
written back, so a report from a newer version survives a round trip.

A key that a report may leave out (e.g. `primary_key_duplicates` when no primary key is
declared) is ABSENT rather than None, which means "declared, but could not be checked".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# version 1: the report as written since the quality checks began (keys in finish.skeleton)
SCHEMA_VERSION = 1


class _Absent:
    """A key the report leaves out (falsy, prints as nothing)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "ABSENT"

    def __str__(self) -> str:
        return ""


ABSENT: Any = _Absent()


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list:
    return v if isinstance(v, list) else []


def _split(cls: type, d: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values of cls's fields present in d, the other keys of d)."""
    d = _dict(d)
    names = {f.name for f in fields(cls)} - {"extra"}
    return {k: v for k, v in d.items() if k in names}, {k: v for k, v in d.items() if k not in names}


def _out(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The object's fields as a dict (ABSENT left out), then its extra keys."""
    out = {}
    for f in fields(obj):
        if f.name == "extra" or f.name in skip:
            continue
        v = getattr(obj, f.name)
        if v is not ABSENT:
            out[f.name] = v
    out.update(obj.extra)
    return out


@dataclass
class Finding:
    """One finding with a stable code (findings.py, score.FINDING_RULES); `detail` holds
    the code's own keys (line, columns, field, constraint, count, rows, …). Constraint
    findings carry no level or message (ABSENT): score.FINDING_RULES says what they do."""

    code: str
    level: str = ABSENT  # "error" fails the gates, "warning" does not
    message: str = ABSENT
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> Finding:
        d = dict(_dict(d))
        return cls(str(d.pop("code", "")), d.pop("level", ABSENT), d.pop("message", ABSENT), d)

    def __getattr__(self, name: str) -> Any:
        """A detail key as an attribute (finding.field, finding.count) for templates."""
        if name.startswith("__") or name == "detail":
            raise AttributeError(name)
        try:
            return self.detail[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code}
        if self.level is not ABSENT:
            out["level"] = self.level
        if self.message is not ABSENT:
            out["message"] = self.message
        out.update(self.detail)
        return out


@dataclass(frozen=True)
class TopValue:
    """One of a column's most frequent values (``stats.top_values``). A value longer than
    ``limits.VALUE_CHARS`` is stored cut (ending in "…"): ``truncated`` is then true and
    ``length`` its full length in code points."""

    value: str
    count: int
    share: float
    truncated: bool = False
    length: int | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TopValue:
        return cls(value=str(d.get("value", "")), count=int(d.get("count") or 0), share=float(d.get("share") or 0.0),
                   truncated=bool(d.get("truncated", False)), length=d.get("length"))


@dataclass
class ColumnReport:
    name: str = ""
    type: str = "string"
    declared: bool = False
    null_count: int = 0
    distinct_count: int = 0
    distinct_approximate: bool = False
    invalid_count: int = 0
    min: Any = None
    max: Any = None
    stats: dict[str, Any] | None = ABSENT  # statistics (stats.py); absent in early reports
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> ColumnReport:
        known, extra = _split(cls, d)
        return cls(**known, extra=extra)

    @property
    def top_values(self) -> list[TopValue] | None:
        """The typed top values (None for numeric and high-cardinality columns, and in early reports)."""
        tops = self.stats.get("top_values") if isinstance(self.stats, dict) else None
        return [TopValue.from_dict(t) for t in tops if isinstance(t, dict)] if isinstance(tops, list) else None

    def to_dict(self) -> dict[str, Any]:
        return _out(self)


@dataclass
class LabelReport:
    column: str | None = None
    distribution: dict[str, int] = field(default_factory=dict)
    outside_set: int = 0
    # the most frequent labels outside the declared set, [{"value", "count"}] (absent in early reports)
    outside_examples: list[dict[str, Any]] = ABSENT
    missing: int = 0
    imbalance_ratio: float | None = None
    conflicts: int = 0
    near_conflicts: int | None = ABSENT  # None: near-duplicate checks switched off
    shares: dict[str, float] = ABSENT
    outside_share: float = ABSENT
    missing_share: float = ABSENT
    input_fields: list[str] = ABSENT
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> LabelReport | None:
        if not isinstance(d, dict):
            return None
        known, extra = _split(cls, d)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        return _out(self)


@dataclass
class PersonalData:
    mobile: int = 0
    email: int = 0
    resident_id: int = 0
    bank_card: int = 0
    by_column: dict[str, dict[str, int]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # redacted
    extra: dict[str, Any] = field(default_factory=dict)

    KINDS = ("mobile", "email", "resident_id", "bank_card")

    @classmethod
    def from_dict(cls, d: Any) -> PersonalData:
        known, extra = _split(cls, d)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        return _out(self)

    @property
    def found(self) -> bool:
        return any(getattr(self, k) for k in self.KINDS)


@dataclass
class Gates:
    passed: bool = False
    failures: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> Gates:
        known, extra = _split(cls, d)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        return _out(self)


@dataclass
class Deduction:
    """Points the score lost: component (None for no_rows / rounding), its weight, reason code."""

    component: str | None = None
    weight: int = 0
    code: str = ""
    reason: str = ""
    points: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> Deduction:
        known, extra = _split(cls, d)
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        return _out(self)


_NESTED = ("columns", "labels", "pii", "gates", "findings", "score_deductions")


@dataclass
class Report:
    schema_version: int = SCHEMA_VERSION
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    bytes: int = 0
    header: list[str] = field(default_factory=list)
    rows: int = 0
    malformed_rows: int = 0
    malformed_examples: list[int] = field(default_factory=list)  # physical line numbers
    blank_lines: int = ABSENT
    duplicate_rows: int = 0
    near_duplicate_rows: int | None = 0
    primary_key_duplicates: int | None = ABSENT  # None: declared but its columns are missing
    columns: list[ColumnReport] = field(default_factory=list)
    labels: LabelReport | None = None
    pii: PersonalData = field(default_factory=PersonalData)
    formula_injection: int = 0
    formula_injection_by_column: dict[str, int] = field(default_factory=dict)
    control_characters: dict[str, Any] = ABSENT  # {"cells": n, "by_column": {...}}
    sample: list[dict[str, Any]] = field(default_factory=list)  # unredacted: see exchange/selectors/quality.py
    score: int = 0
    grade: str = "E"
    score_breakdown: dict[str, float] = field(default_factory=dict)
    score_deductions: list[Deduction] = field(default_factory=list)
    gates: Gates = field(default_factory=Gates)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    line_endings: dict[str, Any] | None = None  # {"kind", "lf", "crlf", "cr"}
    # how the file was read (docs/quality.md, "Reading files"); absent in earlier reports
    encoding_detail: dict[str, Any] = ABSENT  # {"encoding", "reason", "refuted", "switched_at"?}
    dialect: dict[str, Any] = ABSENT  # CSV/TSV: {"declared", "sniffed", "used", "differ", "header", ...}
    # what limits.cap_report cut (absent when nothing was): {"value_chars", "top_values", "min_max", "sample_cells",
    # "sample_rows_dropped"?, "strings"?}
    truncated: dict[str, Any] = ABSENT
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any) -> Report:
        """Read a report dict (as profile() returns it or as stored by any version)."""
        known, extra = _split(cls, d)
        known.setdefault("schema_version", 1)  # stored before the key existed
        nested = {
            "columns": [ColumnReport.from_dict(c) for c in _list(known.get("columns")) if isinstance(c, dict)],
            "labels": LabelReport.from_dict(known.get("labels")),
            "pii": PersonalData.from_dict(known.get("pii")),
            "gates": Gates.from_dict(known.get("gates")),
            "findings": [Finding.from_dict(f) for f in _list(known.get("findings")) if isinstance(f, dict)],
            "score_deductions": [Deduction.from_dict(x) for x in _list(known.get("score_deductions"))
                                 if isinstance(x, dict)],
        }
        for k in _NESTED:
            known.pop(k, None)
        return cls(**known, **nested, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out = _out(self, skip=_NESTED)
        out["columns"] = [c.to_dict() for c in self.columns]
        out["labels"] = self.labels.to_dict() if self.labels is not None else None
        out["pii"] = self.pii.to_dict()
        out["gates"] = self.gates.to_dict()
        out["findings"] = [f.to_dict() for f in self.findings]
        out["score_deductions"] = [x.to_dict() for x in self.score_deductions]
        return out

    # ---- what the gates and the pages ask ------------------------------------------------
    @property
    def passed(self) -> bool:
        return bool(self.gates.passed)

    @property
    def failures(self) -> list[str]:
        return list(self.gates.failures)

    def codes(self, level: str | None = None) -> list[str]:
        """The findings' codes (of one level: "error" or "warning")."""
        return [f.code for f in self.findings if level is None or f.level == level]

    def has(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def gate_codes(self) -> list[str]:
        """The codes of the findings that fail the gates (errors, and constraint findings
        whose rule is a gate), in order, each once."""
        from .score import FINDING_RULES

        out = [f.code for f in self.findings
               if f.level == "error" or (f.level is ABSENT and FINDING_RULES.get(f.code, ("", False))[1])]
        return list(dict.fromkeys(out))

    def constraint_findings(self) -> list[Finding]:
        """The Table Schema constraint findings (field, constraint, count, first rows)."""
        from .score import FINDING_RULES

        return [f for f in self.findings if f.code in FINDING_RULES]

    def reading_notes(self) -> list[Finding]:
        """The info findings: how the file was read (encoding, dialect), shown apart."""
        return [f for f in self.findings if f.level == "info" and f.message]
