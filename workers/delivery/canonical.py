"""Canonical JSON (SPEC §5): the exact bytes that are signed and verified."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(obj: Any) -> bytes:
    """Serialise ``obj`` as canonical JSON: keys sorted, separators ``","``/``":"``,
    non-ASCII kept as UTF-8 (no ``\\u`` escapes), no NaN/Infinity.

    Two equal objects always give the same bytes; ``canonical_json(json.loads(b)) == b``
    holds exactly for bytes that are canonical.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
