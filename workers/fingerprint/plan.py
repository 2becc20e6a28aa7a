"""What a fingerprint may touch in one dataset version: the plan.

The plan is computed from the stored (original) file and the offer's options; it holds
no secret, so it can be stored beside a delivery and reused by ``trace``. It names:

* the key columns (the declared primary key, or, without one, every column: a virtual
  key in which marked numbers count only by their digits above the marked one);
* the numeric columns to mark, each with its declared precision (the most fractional
  digits any of its values is written with; integers are never marked);
* the text columns to mark with the whitespace variant, when the seller allows it;
* the distortion bound γ: at most one row in γ changes.

Labels (``labelField``), primary keys and the seller's excluded columns are never marked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .keys import V1, V2
from .values import MAX_DECIMALS, decimals_of

SCHEME = V2  # new plans; plans stored under V1 keep it (keys.py)
SCHEMES = (V1, V2)
MIN_GAMMA, MAX_GAMMA = 5, 1000
MAX_MARKED_COLUMNS = 512  # one bit of a 512-bit row digest per column


@dataclass(frozen=True)
class FingerprintOptions:
    """The seller's choices for one offer."""

    gamma: int = 20
    exclude: tuple[str, ...] = ()
    text_whitespace: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.gamma, int) or not MIN_GAMMA <= self.gamma <= MAX_GAMMA:
            raise ValueError(f"gamma must be an integer from {MIN_GAMMA} to {MAX_GAMMA}, not {self.gamma!r}")


def bound_text(options: FingerprintOptions) -> str:
    """The distortion bound in words, as offers, listings and licences state it."""
    parts = [f"the last declared decimal of numeric columns changes by one unit in at most 1 row in {options.gamma}"]
    if options.text_whitespace:
        parts.append("in those rows a trailing space may be added to or removed from a text value")
    parts.append("labels, keys" + (", " + ", ".join(options.exclude) if options.exclude else "")
                 + " and integer columns are never changed")
    return "; ".join(parts)


@dataclass(frozen=True)
class MarkColumn:
    name: str
    kind: str  # "decimal" or "text"
    decimals: int = 0


@dataclass(frozen=True)
class Plan:
    scheme: str
    gamma: int
    key_columns: tuple[str, ...]
    virtual_key: bool
    columns: tuple[MarkColumn, ...]  # sorted by name: bit j of a row belongs to columns[j]
    rate: float = 0.0
    rows: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def decimals(self) -> dict[str, int]:
        return {c.name: c.decimals for c in self.columns if c.kind == "decimal"}

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["key_columns"], d["notes"] = list(self.key_columns), list(self.notes)
        d["columns"] = [asdict(c) for c in self.columns]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Plan:
        return cls(scheme=d["scheme"], gamma=int(d["gamma"]), key_columns=tuple(d["key_columns"]),
                   virtual_key=bool(d["virtual_key"]), columns=tuple(MarkColumn(**c) for c in d["columns"]),
                   rate=float(d["rate"]), rows=int(d.get("rows", 0)), notes=tuple(d.get("notes", ())))


def selection_rate(gamma: int, marked_columns: int) -> float:
    """Chance that a row is chosen. A chosen row changes unless every one of its k bits
    already matches (chance 2^-k), so choosing at ``1 / (2γ(1 - 2^-k))`` makes rows change
    at half the bound on average; the marker's running budget makes the bound strict."""
    if marked_columns <= 0:
        return 0.0
    return min(1.0, 1.0 / (2 * gamma * (1 - 2.0 ** -marked_columns)))


class ColumnStats:
    """What one pass over a column found: all plain numbers? all text? most decimals?"""

    __slots__ = ("decimals", "numeric", "texty", "values")

    def __init__(self) -> None:
        self.numeric, self.texty, self.decimals, self.values = True, True, 0, 0


def scan_rows(header: list[str], rows: Any) -> tuple[dict[str, ColumnStats], int]:
    stats = {name: ColumnStats() for name in header}
    count = 0
    cols = list(enumerate(header))
    for row in rows:
        count += 1
        for i, name in cols:
            v = row[i] if i < len(row) else None
            if v is None or v == "":
                continue
            c = stats[name]
            c.values += 1
            if c.numeric:
                d = decimals_of(v)
                if d is None:
                    c.numeric = False
                elif d > c.decimals:
                    c.decimals = d
            if c.texty and not isinstance(v, str):
                c.texty = False
    return stats, count


def build_plan(header: list[str], rows: Any, *, schema: dict | None, options: FingerprintOptions,
               stats: tuple[dict[str, ColumnStats], int] | None = None, scheme: str = SCHEME) -> Plan:
    """Decide what may be marked, from one scan of the original rows (or its ``stats``)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown fingerprint scheme {scheme!r}")
    schema = schema or {}
    pk = schema.get("primaryKey") or []
    pk = [pk] if isinstance(pk, str) else list(pk)
    label = schema.get("labelField")
    declared = {f.get("name"): f.get("type") for f in schema.get("fields", []) if isinstance(f, dict)}
    never = set(pk) | {label} | set(options.exclude)
    stats, count = stats or scan_rows(header, rows)
    marks: list[MarkColumn] = []
    notes: list[str] = []
    for name in header:
        c = stats[name]
        if name in never or not c.values:
            continue
        if declared.get(name) in ("integer", "boolean", "date", "datetime", "time", "year"):
            continue
        if c.numeric and 1 <= c.decimals <= MAX_DECIMALS:
            marks.append(MarkColumn(name, "decimal", c.decimals))
        elif c.texty and not c.numeric and options.text_whitespace:
            marks.append(MarkColumn(name, "text"))
    marks.sort(key=lambda m: m.name)
    if len(marks) > MAX_MARKED_COLUMNS:
        notes.append(f"only the first {MAX_MARKED_COLUMNS} of {len(marks)} markable columns are marked")
        marks = marks[:MAX_MARKED_COLUMNS]
    if not marks:
        notes.append("no column can carry a mark: no decimal column outside keys, labels and exclusions"
                     + ("" if options.text_whitespace else ", and whitespace marks on text are not allowed"))
    key = [k for k in pk if k in header]
    virtual = not key or len(key) != len(pk)
    if virtual:
        key = list(header)
    return Plan(scheme=scheme, gamma=options.gamma, key_columns=tuple(key), virtual_key=virtual,
                columns=tuple(marks), rate=selection_rate(options.gamma, len(marks)), rows=count,
                notes=tuple(notes))
