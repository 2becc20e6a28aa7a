"""Table Schema field parsing: missing values, formats, number/boolean options (pure, vectorised).

A FieldSpec is built once per declared field; `parse(spec, arr)` checks a batch of raw
cells (strings, nulls already decided by the caller) and returns which parse as the
field's type and their comparable value:

    integer, year   -> int64 (float64 beyond the int64 range)
    number          -> float64
    boolean         -> bool
    date            -> "YYYY-MM-DD" text       (whatever the field's format)
    datetime        -> "YYYY-MM-DDTHH:MM:SS…"   (a space after the date becomes "T")
    time            -> "HH:MM:SS…"
    anything else   -> the cell's text

Canonical ISO text sorts in time order, so minimum/maximum/enum compare it directly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .schema import FALSE_VALUES, PATTERNS, TRUE_VALUES

# strptime directives accepted in a `format` pattern -> RE2 for the text they match
DIRECTIVES = {
    "Y": r"[0-9]{4}", "y": r"[0-9]{2}", "m": r"(?:0?[1-9]|1[0-2])", "d": r"(?P<d>0?[1-9]|[12][0-9]|3[01])",
    "H": r"(?:[01]?[0-9]|2[0-3])", "I": r"(?:0?[1-9]|1[0-2])", "M": r"[0-5]?[0-9]", "S": r"(?:[0-5]?[0-9]|6[01])",
    "p": r"(?i:am|pm)", "b": r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    "B": r"(?i:january|february|march|april|may|june|july|august|september|october|november|december)",
    "z": r"(?:[+-][0-9]{2}:?[0-9]{2}|Z)", "%": "%",
}
DATE_ANY = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d", "%d %b %Y",
            "%d %B %Y", "%b %d %Y", "%B %d %Y", "%Y年%m月%d日")
TIME_ANY = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
STRING_FORMATS = {
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "binary": r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
}
TEMPORAL = ("date", "datetime", "time")
CANON = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%S", "time": "%H:%M:%S"}
_BARE_STRIP = r"^[^\-0-9]*|[^0-9]*$"


def pattern_regex(fmt: str) -> str:
    """An anchored RE2 pattern matching what Python's strptime accepts for `fmt`
    (ValueError naming the directive when one is not supported)."""
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            if i + 1 >= len(fmt):
                raise ValueError("ends with a lone '%'")
            d = fmt[i + 1]
            if d not in DIRECTIVES:
                raise ValueError(f"the directive %{d} is not supported (use %Y %y %m %d %H %I %M %S %p %b %B %z)")
            rx = DIRECTIVES[d]
            if d == "d" and "(?P<d>" in "".join(out):
                rx = rx.replace("?P<d>", "?:")
            out.append(rx)
            i += 2
        elif ch.isspace():
            out.append(r"\s+")
            i += 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "^" + "".join(out) + "$"


def format_patterns(ftype: str, fmt: str) -> list[str] | None:
    """strptime patterns for a temporal field's format; None for the ISO default."""
    if fmt in ("", "default"):
        return None
    if fmt == "any":
        if ftype == "date":
            return list(DATE_ANY)
        if ftype == "time":
            return list(TIME_ANY)
        return [f"{d}{sep}{t}" for d in DATE_ANY for sep in ("T", " ") for t in TIME_ANY[:2]] + list(DATE_ANY)
    return [fmt[4:] if fmt.startswith("fmt:") else fmt]


@dataclass
class FieldSpec:
    name: str
    type: str = "string"
    format: str = "default"
    missing: tuple[str, ...] = ("",)
    true_values: tuple[str, ...] = tuple(TRUE_VALUES)
    false_values: tuple[str, ...] = tuple(FALSE_VALUES)
    decimal_char: str = "."
    group_char: str = ""
    bare_number: bool = True
    constraints: dict[str, Any] = field(default_factory=dict)
    native: bool = False  # JSON Lines / Parquet: native numbers, booleans and ISO dates accepted too
    patterns: list[str] | None = None  # strptime patterns (temporal formats)

    @classmethod
    def from_descriptor(cls, desc: dict, schema: dict | None = None) -> FieldSpec:
        s = schema or {}
        missing = desc.get("missingValues", s.get("missingValues", [""]))
        t = desc.get("type", "string")
        fmt = desc.get("format", "default") or "default"
        spec = cls(
            name=desc["name"], type=t, format=fmt, missing=tuple(dict.fromkeys(missing)),
            true_values=tuple(desc.get("trueValues", TRUE_VALUES)),
            false_values=tuple(desc.get("falseValues", FALSE_VALUES)),
            decimal_char=desc.get("decimalChar", "."), group_char=desc.get("groupChar", ""),
            bare_number=desc.get("bareNumber", True), constraints=dict(desc.get("constraints") or {}),
        )
        if t in TEMPORAL:
            spec.patterns = format_patterns(t, fmt)
        return spec

    @property
    def plain(self) -> bool:
        """True when the profiler's built-in type check is exact for this field."""
        return (self.format == "default" and self.decimal_char == "." and not self.group_char
                and self.bare_number and self.true_values == tuple(TRUE_VALUES)
                and self.false_values == tuple(FALSE_VALUES) and not self.constraints)


# ---- nulls -------------------------------------------------------------------------
def null_mask(arr: pa.Array, missing: tuple[str, ...] | list[str]) -> pa.Array:
    """Cells that are null: empty, whitespace-only, or one of `missing` (exact text)."""
    empty = pc.equal(pc.binary_length(arr), 0)
    ws = pc.utf8_is_space(arr)
    if ws.true_count:
        empty = pc.or_(empty, ws)
    extra = [m for m in missing if m and not m.isspace()]
    if extra:
        empty = pc.or_(empty, pc.is_in(arr, pa.array(extra, pa.string())))
    return empty


def null_mask_columns(cols: list[pa.Array], melt: pa.Array, missing: list[tuple[str, ...]]) -> pa.Array:
    """null_mask over the concatenated columns (`melt`), each column with its own missing
    values: one pass when all columns share them."""
    if len(set(missing)) <= 1:
        return null_mask(melt, missing[0] if missing else ("",))
    return pa.concat_arrays([null_mask(c, m) for c, m in zip(cols, missing, strict=True)])


def is_null_text(v: str, missing: tuple[str, ...] | list[str]) -> bool:
    return not v.strip() or v in missing


# ---- parsing -----------------------------------------------------------------------
def _number_text(spec: FieldSpec, arr: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """Apply bareNumber / groupChar / decimalChar: (normalised text, cells refused outright)."""
    s = arr
    if not spec.bare_number:
        s = pc.replace_substring_regex(s, _BARE_STRIP, "")
    if spec.group_char:
        s = pc.replace_substring(s, spec.group_char, "")
    refused = None
    if spec.type == "number" and spec.decimal_char != ".":
        refused = pc.match_substring(s, ".")
        s = pc.replace_substring(s, spec.decimal_char, ".")
    return s, refused


def valid_number(t: str, s: pa.Array) -> pa.Array:
    """Which strings are valid ``t`` ("integer"/"number"): plain digits (after dropping one
    '.') take a cheap exact path; only the rest go through the regex."""
    plain = s if t == "integer" else pc.replace_substring(s, ".", "", max_replacements=1)
    v = pc.ascii_is_decimal(plain)
    if v.false_count:
        rest = pc.invert(v)
        m = pc.match_substring_regex(s.filter(rest), PATTERNS[t])
        if m.true_count:
            v = pc.replace_with_mask(v, rest, m)
    return v


def _cast_number(t: str, s: pa.Array, valid: pa.Array) -> pa.Array:
    vals = pc.if_else(valid, s, pa.scalar(None, pa.string()))
    if t == "number":
        try:
            return vals.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.array([None if x is None else float(x) for x in vals.to_pylist()], pa.float64())
    try:
        return vals.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if x is None else float(int(x)) for x in vals.to_pylist()], pa.float64())


def _strptime(arr: pa.Array, fmt: str) -> tuple[pa.Array, pa.Array]:
    """(valid, timestamp) for one strptime pattern: the text must match the pattern's
    syntax exactly and name a real calendar day (Arrow rolls 31/02 over: refused)."""
    rx = pattern_regex(fmt)
    ok = pc.match_substring_regex(arr, rx)
    ts = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    ok = pc.fill_null(pc.and_(ok, pc.is_valid(ts)), False)
    if "(?P<d>" in rx and ok.true_count:
        day = pc.extract_regex(arr.filter(ok), rx).field("d")
        same = pc.equal(pc.cast(day, pa.int64()), pc.day(ts.filter(ok)))
        if same.false_count:
            ok = pc.replace_with_mask(ok, ok, same)
    return ok, ts


def _temporal(spec: FieldSpec, arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    t = spec.type
    if spec.patterns is None or spec.native:
        valid = _valid_default(t, arr)
        canon = arr
        if t == "datetime":
            canon = pc.replace_substring_regex(arr, r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) ", r"\1T")
        canon = pc.if_else(valid, canon, pa.scalar(None, pa.string()))
        if spec.patterns is None:
            return valid, canon
    else:
        valid = pa.array([False] * len(arr), pa.bool_())
        canon = pa.nulls(len(arr), pa.string())
    for fmt in spec.patterns:
        # each pattern only sees the cells no earlier pattern parsed
        todo = pc.invert(valid)
        if not todo.true_count:
            break
        sub = arr if not valid.true_count else arr.filter(todo)
        ok, ts = _strptime(sub, fmt)
        if not ok.true_count:
            continue
        ts = ts.filter(ok)
        text = pc.strftime(ts if ts.type.tz is None else ts.cast(pa.timestamp("s")), format=CANON[t])
        hit = ok if len(sub) == len(arr) else pc.replace_with_mask(todo, todo, ok)
        canon = pc.replace_with_mask(canon, hit, text)
        valid = pc.or_(valid, hit)
    return valid, canon


def _valid_default(t: str, arr: pa.Array) -> pa.Array:
    v = pc.match_substring_regex(arr, PATTERNS[t])
    if t in ("date", "datetime") and v.true_count:
        day = arr if t == "date" else pc.utf8_slice_codeunits(arr, 0, 10)
        late = pc.and_(v, pc.match_substring_regex(day, r"-(29|30|31)$"))
        if late.true_count:
            idx = pc.indices_nonzero(late)
            sub = day.take(idx)
            d = pc.strptime(sub, format="%Y-%m-%d", unit="s", error_is_null=True)
            same = pc.fill_null(pc.equal(pc.strftime(d, format="%Y-%m-%d"), sub), False)
            if same.false_count:
                v = pc.replace_with_mask(v, late, same)
    return v


def parse(spec: FieldSpec, arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(valid, value) for non-null cells of one column; `value` is null where invalid."""
    t = spec.type
    if t in ("integer", "number"):
        s, refused = _number_text(spec, arr)
        valid = valid_number(t, s)
        if refused is not None and refused.true_count:
            valid = pc.and_(valid, pc.invert(refused))
        if spec.native and (spec.decimal_char != "." or spec.group_char or not spec.bare_number):
            native = valid_number(t, arr)
            s = pc.if_else(valid, s, arr)
            valid = pc.or_(valid, native)
        return valid, _cast_number(t, s, valid)
    if t == "boolean":
        tv = list(spec.true_values) + (["true"] if spec.native else [])
        fv = list(spec.false_values) + (["false"] if spec.native else [])
        is_t = pc.is_in(arr, pa.array(tv, pa.string()))
        valid = pc.or_(is_t, pc.is_in(arr, pa.array(fv, pa.string())))
        return valid, pc.if_else(valid, is_t, pa.scalar(None, pa.bool_()))
    if t in TEMPORAL:
        return _temporal(spec, arr)
    if t == "year":
        valid = pc.match_substring_regex(arr, PATTERNS["year"])
        return valid, _cast_number("integer", arr, valid)
    if t == "string" and spec.format in STRING_FORMATS:
        valid = pc.match_substring_regex(arr, STRING_FORMATS[spec.format])
        return valid, arr
    if t in PATTERNS:
        valid = pc.match_substring_regex(arr, PATTERNS[t])
        return valid, arr
    return pa.array([True] * len(arr), pa.bool_()), arr


# ---- single values (constraint bounds, enum members) ----------------------------------
def parse_value(spec: FieldSpec, v: Any) -> Any:
    """A constraint's value in the comparable domain of parse(); ValueError if it is not
    a value of the field's type."""
    t = spec.type
    if t in ("integer", "year"):
        if isinstance(v, bool) or not isinstance(v, int | str):
            raise ValueError(f"{v!r} is not an integer")
        if isinstance(v, str):
            valid, val = parse(spec, pa.array([v]))
            if not valid[0].as_py():
                raise ValueError(f"{v!r} is not an integer")
            return val[0].as_py()
        return v
    if t == "number":
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise ValueError(f"{v!r} is not a number")
        if isinstance(v, str):
            valid, val = parse(spec, pa.array([v]))
            if not valid[0].as_py():
                raise ValueError(f"{v!r} is not a number")
            return val[0].as_py()
        return float(v)
    if t == "boolean":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v in spec.true_values + spec.false_values:
            return v in spec.true_values
        raise ValueError(f"{v!r} is not a boolean")
    if not isinstance(v, str):
        raise ValueError(f"{v!r} is not a {t} (give it as text)")
    if t in TEMPORAL:
        valid, val = parse(spec, pa.array([v]))
        if valid[0].as_py():
            return val[0].as_py()
        iso = FieldSpec(spec.name, t)  # the ISO form is always accepted for bounds
        valid, val = parse(iso, pa.array([v]))
        if valid[0].as_py():
            return val[0].as_py()
        raise ValueError(f"{v!r} is not a {t} in the field's format or ISO 8601")
    return v


def value_array(values: list[Any]) -> pa.Array:
    if all(isinstance(x, bool) for x in values):
        return pa.array(values, pa.bool_())
    if all(isinstance(x, int) and not isinstance(x, bool) for x in values):
        return pa.array(values, pa.int64())
    if all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
        return pa.array([float(x) for x in values], pa.float64())
    return pa.array([str(x) for x in values], pa.string())


def iso_text(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date | dt.time) else v
