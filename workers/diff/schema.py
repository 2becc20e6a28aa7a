"""Schema and per-column quality changes between two versions (no Django)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .report import ColumnChange, FieldChange


@dataclass(frozen=True)
class Field:
    name: str
    type: str


@dataclass(frozen=True)
class ColumnFigures:
    """A column's defect counts from a version's quality report."""

    name: str
    nulls: int
    invalid: int


def diff_fields(old: Sequence[Field], new: Sequence[Field]) -> tuple[FieldChange, ...]:
    """Fields added, removed and retyped, in the new schema's order then the removed ones."""
    before = {f.name: f.type for f in old}
    after = {f.name: f.type for f in new}
    out = []
    for f in new:
        if f.name not in before:
            out.append(FieldChange(name=f.name, change="added", new_type=f.type))
        elif before[f.name] != f.type:
            out.append(FieldChange(name=f.name, change="retyped", old_type=before[f.name], new_type=f.type))
    out += [FieldChange(name=f.name, change="removed", old_type=f.type) for f in old if f.name not in after]
    return tuple(out)


def diff_columns(old: Iterable[ColumnFigures], new: Iterable[ColumnFigures]) -> tuple[ColumnChange, ...]:
    """Null and invalid counts of the columns both versions have, where either moved."""
    before = {c.name: c for c in old}
    out = []
    for c in new:
        b = before.get(c.name)
        if b is not None and (b.nulls, b.invalid) != (c.nulls, c.invalid):
            out.append(ColumnChange(name=c.name, old_nulls=b.nulls, new_nulls=c.nulls,
                                    old_invalid=b.invalid, new_invalid=c.invalid))
    return tuple(out)
