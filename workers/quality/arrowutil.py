"""Small pyarrow helpers shared by the readers and the passes (no state, no Django)."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# separates the fields of a joined row key (cannot occur unescaped in a key: see passes.pipeline)
SEP = "\x1f"


def offsets(arr: pa.Array) -> pa.Array:
    """The value offsets of a (large) string or binary array as an integer array (zero-copy,
    slice offset applied): value i spans data[offsets[i]:offsets[i + 1]]."""
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    return pa.Array.from_buffers(pa.int64() if large else pa.int32(), len(arr) + 1,
                                 [None, arr.buffers()[1]], offset=arr.offset)


def buffer_contains(arr: pa.Array, needle: str) -> bool:
    """Whether any value of a string array holds `needle`: one memchr-speed scan of the
    values' bytes instead of one search per value (a hit may straddle two values when
    the needle is longer than one byte: callers re-check)."""
    data = arr.buffers()[2]
    if data is None or data.size == 0 or len(arr) == 0:
        return False
    off = offsets(arr)
    first, last = off[0].as_py(), off[-1].as_py()
    return data[first:last].to_pybytes().find(needle.encode()) >= 0


def merge_min(a: Any, b: Any) -> Any:
    return b if a is None or (b is not None and b < a) else a


def merge_max(a: Any, b: Any) -> Any:
    return b if a is None or (b is not None and b > a) else a


def min_max(t: str, vals: pa.Array) -> tuple[Any, Any]:
    """Minimum and maximum of valid values of Table Schema type t (None, None for booleans)."""
    try:
        if t == "integer":
            mm = pc.min_max(vals.cast(pa.int64()))
        elif t == "number":
            mm = pc.min_max(vals.cast(pa.float64()))
        elif t == "boolean":
            return None, None
        else:
            mm = pc.min_max(vals)
        return mm["min"].as_py(), mm["max"].as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if t == "integer":
            ints = [int(v) for v in vals.to_pylist()]
            return min(ints), max(ints)
        return None, None


def to_string(c: pa.Array) -> pa.Array:
    """A typed (Parquet) column as the text the CSV reader would have produced."""
    t = c.type
    if pa.types.is_string(t):
        out = c
    elif pa.types.is_boolean(t):
        out = pc.if_else(c, "true", "false")
    elif pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        out = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                        for v in c.to_pylist()], pa.string())
    else:
        try:
            out = c.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out = pa.array([None if v is None else str(v) for v in c.to_pylist()], pa.string())
    return out.fill_null("") if out.null_count else out


def jsonable(v: Any) -> Any:
    if v is None or isinstance(v, str | int | bool):
        return v
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else str(v)
    return str(v)


def clean(exc: BaseException) -> str:
    """The first line of an exception's message (at most 300 characters)."""
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
