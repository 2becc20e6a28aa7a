"""The typed result of comparing two versions of a dataset (no Django).

``VersionDiff.to_dict()`` is what is stored and served; ``from_dict`` reads it back, so the
Django side never reads the dict by string key. ``SCHEMA_VERSION`` moves when a field's
meaning changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RowExample:
    """One row that was added, removed, changed or relabelled, named by its key."""

    key: str
    old_label: str | None = None
    new_label: str | None = None


@dataclass(frozen=True)
class LabelShift:
    label: str
    old_count: int
    new_count: int
    old_share: float  # 0..1 of the version's rows
    new_share: float

    @property
    def shift_pp(self) -> float:
        """Change in share, in percentage points."""
        return round((self.new_share - self.old_share) * 100, 2)


@dataclass(frozen=True)
class FieldChange:
    name: str
    change: str  # "added" | "removed" | "retyped"
    old_type: str | None = None
    new_type: str | None = None


@dataclass(frozen=True)
class ColumnChange:
    """For cleaned data: how a column's defects moved between the versions' quality reports."""

    name: str
    old_nulls: int
    new_nulls: int
    old_invalid: int
    new_invalid: int


@dataclass(frozen=True)
class RowDiff:
    mode: str  # "key" (rows matched by primary key) | "content" (no key: matched by whole-row content)
    key_fields: tuple[str, ...]
    compared_fields: tuple[str, ...]  # the fields both versions have, that "changed" looks at
    old_rows: int
    new_rows: int
    added: int
    removed: int
    changed: int  # matched rows whose compared values differ (relabelled rows included)
    unchanged: int
    relabelled: int
    duplicate_keys_old: int = 0  # rows after the first with an already seen key (compared by first)
    duplicate_keys_new: int = 0
    label_field: str | None = None
    label_shift: tuple[LabelShift, ...] = ()
    examples: dict[str, tuple[RowExample, ...]] = field(default_factory=dict)
    note: str = ""  # why the mode was chosen, when it was not the seller's key

    @property
    def relabel_rate(self) -> float | None:
        """Relabelled rows as a share of the rows both versions hold (None without a label)."""
        if self.label_field is None:
            return None
        matched = self.changed + self.unchanged
        return round(self.relabelled / matched, 6) if matched else 0.0


@dataclass(frozen=True)
class VersionDiff:
    rows: RowDiff
    fields: tuple[FieldChange, ...] = ()
    columns: tuple[ColumnChange, ...] = ()
    old_duplicate_rows: int | None = None  # exact duplicate rows, from the two quality reports
    new_duplicate_rows: int | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def schema_changed(self) -> bool:
        return bool(self.fields)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rows"]["relabel_rate"] = self.rows.relabel_rate
        for s, obj in zip(d["rows"]["label_shift"], self.rows.label_shift, strict=True):
            s["shift_pp"] = obj.shift_pp
        return d

    @classmethod
    def from_dict(cls, d: dict) -> VersionDiff:
        r = dict(d["rows"])
        r.pop("relabel_rate", None)
        r["key_fields"] = tuple(r["key_fields"])
        r["compared_fields"] = tuple(r["compared_fields"])
        r["label_shift"] = tuple(
            LabelShift(**{k: v for k, v in s.items() if k != "shift_pp"}) for s in r.get("label_shift", ()))
        r["examples"] = {k: tuple(RowExample(**e) for e in v) for k, v in r.get("examples", {}).items()}
        return cls(rows=RowDiff(**r), fields=tuple(FieldChange(**f) for f in d.get("fields", ())),
                   columns=tuple(ColumnChange(**c) for c in d.get("columns", ())),
                   old_duplicate_rows=d.get("old_duplicate_rows"), new_duplicate_rows=d.get("new_duplicate_rows"),
                   schema_version=d.get("schema_version", SCHEMA_VERSION))
