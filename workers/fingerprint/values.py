"""Cell values: the scaled integer at the declared precision, marks, and row-key parts.

A numeric cell with ``p`` declared decimals is the integer ``n = round(value * 10**p)``.
Its mark is the parity of ``n``; a mark is written by ``|n| XOR 1``, which changes
only the last declared decimal, by one unit, and never carries into the digit above
(0<->1, 2<->3, ..., 8<->9). So ``|n| // 10`` (every digit above the marked one) is the
same in every buyer's copy: row keys built from it survive the marks themselves.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

# Plain decimal notation as sellers' files write it (no exponent, no thousands separators).
PLAIN_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*")
MAX_DECIMALS = 12  # beyond this a float's repr is noise, not a declared precision


def decimals_of(value: Any) -> int | None:
    """Fractional digits the value is written with; None when it is not a plain number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
        if "e" in text or "E" in text:
            return None
        return len(text.partition(".")[2].rstrip("0")) if "." in text else 0
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return max(0, -value.as_tuple().exponent)
    if isinstance(value, str):
        if not PLAIN_NUMBER.fullmatch(value):
            return None
        return len(value.strip().partition(".")[2])
    return None


# A number as sellers' files write it: sign, digits, optional fraction (the common case, parsed
# without Decimal; the result is the one Decimal gives, tests compare them).
_SIMPLE = re.compile(r"([+-]?)(\d+)(?:\.(\d*))?")


def _scaled_simple(s: str, p: int) -> int | None:
    m = _SIMPLE.fullmatch(s)
    if m is None:
        return None
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    if len(frac) <= p:
        n = int(whole + frac + "0" * (p - len(frac)))
    else:
        n = int(whole + frac[:p])
        rest = frac[p:]
        first, tail = rest[0], rest[1:].strip("0")
        if first > "5" or (first == "5" and (tail or n & 1)):  # half to even, as Decimal rounds
            n += 1
    return -n if sign == "-" else n


def scaled(value: Any, p: int) -> int | None:
    """``round(value * 10**p)`` exactly (half to even), or None for a non-number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        n = _scaled_simple(value.strip(), p)
        if n is not None:
            return n
    try:
        if isinstance(value, str):
            s = value.strip()
            if not s:
                return None
            d = Decimal(s)  # exponent forms too: a re-saved file may write floats so
        elif isinstance(value, float):
            if not math.isfinite(value):
                return None
            d = Decimal(repr(value))
        elif isinstance(value, int | Decimal):
            d = Decimal(value)
        else:
            return None
        if not d.is_finite():
            return None
        return int(d.scaleb(p).to_integral_value())
    except (InvalidOperation, ValueError):
        return None


def flip(n: int) -> int:
    """Toggle the parity of ``n`` by changing its last digit within its pair (no carry)."""
    m = abs(n) ^ 1
    return -m if n < 0 else m


def numeric_with(value: Any, p: int, n: int) -> Any:
    """``value`` rewritten as the scaled integer ``n`` at ``p`` decimals, in the value's own type."""
    if isinstance(value, str) and value and not value[0].isspace() and not value[-1].isspace():
        body = value
        if _SIMPLE.fullmatch(body) and len(body.partition(".")[2]) <= p:  # the common case, without Decimal
            digits = str(abs(n)).rjust(p + 1, "0")
            sign = "-" if n < 0 else "+" if body.startswith("+") else ""
            return f"{sign}{digits[:-p]}.{digits[-p:]}" if p else f"{sign}{digits}"
    d = Decimal(n).scaleb(-p)
    if isinstance(value, str):
        lead = value[: len(value) - len(value.lstrip())]
        trail = value[len(value.rstrip()):]
        body = value.strip()
        sign = "+" if body.startswith("+") and n >= 0 else ""
        return f"{lead}{sign}{d:.{max(p, decimals_of(body) or 0)}f}{trail}"
    if isinstance(value, float):
        return float(d)
    if isinstance(value, Decimal):
        return d.quantize(Decimal(1).scaleb(-max(p, decimals_of(value) or 0)))
    return float(d)


def text_bit(value: Any) -> int | None:
    """The whitespace mark of a text cell: 1 when it ends with a space; None when unmarkable."""
    if not isinstance(value, str) or not value.strip():
        return None
    return 1 if value.endswith(" ") else 0


def text_with(value: str, bit: int) -> str:
    body = value.rstrip(" ")
    return body + " " if bit else body


def key_part(value: Any, decimals: int | None) -> str:
    """One column's contribution to a row key, the same however the file was re-saved.

    Marked numeric columns contribute the digits above the marked one; other numbers
    their canonical decimal form (``"007"``, ``7``, ``7.0`` all give ``"7"``); text is
    NFC-normalised and stripped (the whitespace mark never changes a key).
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.isdigit() and value.isascii() and (value[0] != "0" or len(value) == 1):
        if decimals is None:
            return value  # the common integer key: already canonical
    if decimals is not None:
        n = scaled(value, decimals)
        if n is not None:
            hi = abs(n) // 10
            return f"~{'-' if n < 0 and hi else ''}{hi}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal) or (isinstance(value, str) and PLAIN_NUMBER.fullmatch(value)):
        try:
            d = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except InvalidOperation:
            return str(value)
        if d.is_finite():
            d = d.normalize()
            return "0" if d == 0 else format(d, "f")
    return unicodedata.normalize("NFC", str(value)).strip()
