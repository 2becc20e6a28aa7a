"""JSON Lines rows: columns are the union of keys over the whole file, nested values reported.

Objects may leave out keys (a missing key is null, like an explicit null). The columns are the
keys in the order they first appear, then declared fields no object has (null everywhere; they
are reported missing). Reading starts with the first object's keys; when a later object brings
a key not seen yet, the rest of the file is scanned for keys once (`KeyUnion.scan`) and the
file is read again with the full union, so a file whose first object has every key (the usual
case) is read once, any other at most twice.

Objects and arrays inside a row are profiled as their JSON text and counted per column
(finding `nested_values`), never crashed on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

NESTED_VALUES = "nested_values"


class NewKeys(Exception):
    """An object holds a key the columns do not have yet."""


class KeyUnion:
    def __init__(self) -> None:
        self.keys: dict[str, None] = {}

    def add(self, obj: dict) -> None:
        for k in obj:
            if k not in self.keys:
                self.keys[k] = None

    def scan(self, lines: Iterable[str]) -> None:
        """Add the keys of every JSON object among `lines` (other lines are skipped here; the
        reading pass counts them as malformed)."""
        for line in lines:
            s = line.strip()
            if not s:
                continue
            try:
                obj = json.loads(s)
            except ValueError:
                continue
            if isinstance(obj, dict):
                self.add(obj)

    def columns(self, declared: Iterable[str]) -> list[str]:
        return [*self.keys, *(n for n in declared if n not in self.keys)]


class RowBuilder:
    """Turns objects into rows of strings for fixed columns, counting nested values."""

    def __init__(self, header: list[str], strict: bool = True):
        self.header = header
        self.known = set(header)
        self.strict = strict  # raise NewKeys on an unknown key (else count it in `extra`)
        self.nested: dict[str, int] = {}
        self.extra: dict[str, int] = {}

    def row(self, obj: dict) -> list[str]:
        if not self.known.issuperset(obj):
            new = [k for k in obj if k not in self.known]
            if new:
                if self.strict:
                    raise NewKeys(new)
                for k in new:
                    self.extra[k] = self.extra.get(k, 0) + 1
        return [self._cell(h, obj.get(h)) for h in self.header]

    def _cell(self, name: str, v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, str):
            return v
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, dict | list):
            self.nested[name] = self.nested.get(name, 0) + 1
        return json.dumps(v, ensure_ascii=False)


def nested_finding(nested: dict[str, int]) -> dict[str, Any] | None:
    """Warning naming the columns that hold JSON objects or arrays, or None."""
    if not nested:
        return None
    total = sum(nested.values())
    return {"code": NESTED_VALUES, "level": "warning",
            "message": f"{total} values are JSON objects or arrays (profiled as their JSON text): "
                       + ", ".join(f"{k} ({n})" for k, n in list(nested.items())[:20]),
            "cells": total, "by_column": dict(nested)}
