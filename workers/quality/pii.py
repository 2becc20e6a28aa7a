"""Exact personal-data checks and redaction (no Django).

The profiler finds candidate cells with the vectorised (RE2) ``PREFILTER_RE``; the exact
rules below then run on those few cells: mobiles and e-mails through RE2 patterns that are
exact on their own (``MOBILE_RE2``/``EMAIL_RE2``, with Python twins ``MOBILE``/``EMAIL``
for examples and redaction), resident ids and bank cards in Python
(``id_and_card_matches``) on the cells ``LONG_DIGITS_RE2`` keeps.

Rules (docs/quality.md, "Personal data"):
- A digit run that is part of a decimal or scientific number (``7.0870000000000015``,
  ``1.2345678901234567e+20``, ``13800138000.5``) or touches an ASCII letter or digit is no
  candidate.
- mobile: 11 digits ``1`` + a MIIT segment (13x, 145-149, 15x but 154, 162/165-167, 170-178,
  18x, 19x but 194), written solid, ``3-4-4`` with spaces or with dashes, optionally after
  ``+86``/``0086`` (and a space or dash).
- resident id: 18 characters (17 digits + digit/X) with a GB/T 2260 province code, a birth
  date YYYYMMDD after 1900-01-01 and not in the future, and a correct ISO 7064 MOD 11-2
  check character; or the old 15-digit form: province code, city code 01-70 or 90, a valid
  birth date 19YYMMDD, 3 digits.
- bank card: 16-19 digits, solid or in groups of four separated by one kind of separator
  (space or dash, last group 1-3 digits for 17-19), Luhn-valid, a known IIN range (Visa 4,
  Mastercard 51-55/2221-2720, UnionPay 62/81, other 3/5/6 ranges, China legacy 9), and not
  an 18-digit number that looks like a resident id (province + birth date) whatever its
  check character.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

# --- shared pieces --------------------------------------------------------------------
# the segments of mainland mobile numbers (second and third digit)
_SEGMENT = "1(?:3[0-9]|4[5-9]|5[0-35-9]|6[25-7]|7[0-8]|8[0-9]|9[0-35-9])"
_MOBILE_BODY = rf"{_SEGMENT}(?:[0-9]{{8}}| [0-9]{{4}} [0-9]{{4}}|-[0-9]{{4}}-[0-9]{{4}})"
_CC = r"(?:\+86|0086)[ -]?"

# RE2 (no look-around): the left context is the start, a character that is neither an ASCII
# letter/digit nor '.', or a '.' not preceded by a digit; the right context mirrors it.
_LEFT2 = r"(?:^|[^0-9A-Za-z.]|(?:^|[^0-9])\.)"
_RIGHT2 = r"(?:$|[^0-9A-Za-z.]|\.(?:$|[^0-9]))"
# Python twins of the same contexts (zero width, so a match is the item itself)
_LEFT = r"(?<![0-9A-Za-z])(?<![0-9]\.)"
_RIGHT = r"(?![0-9A-Za-z])(?!\.[0-9])"

# --- vectorised (RE2) patterns ---------------------------------------------------------
# Prefilter: every cell that could hold an item (a superset; exact checks follow).
# 11 solid digits covers solid mobiles, ids and cards; 3-4-4 digit groups cover grouped
# mobiles and grouped cards; '@' covers e-mails.
PREFILTER_RE = "[0-9]{11}|@|[0-9]{3}[ -][0-9]{4}[ -][0-9]{4}"
MOBILE_RE2 = rf"{_LEFT2}(?:{_CC})?{_MOBILE_BODY}{_RIGHT2}"
EMAIL_RE2 = (r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
             r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}")
# cells that may hold an id or a card (15+ solid digits, or four groups of four) outside a
# decimal number; id_and_card_matches decides
LONG_DIGITS_RE2 = rf"{_LEFT2}(?:[0-9]{{15}}|[0-9]{{4}}[ -][0-9]{{4}}[ -][0-9]{{4}}[ -][0-9]{{4}})"

# --- Python patterns (exact) -----------------------------------------------------------
MOBILE = re.compile(rf"(?:{_LEFT}{_CC}|{_LEFT}){_MOBILE_BODY}{_RIGHT}")
EMAIL = re.compile(EMAIL_RE2)
TOKEN = re.compile(r"[0-9A-Za-z]+")
RESIDENT_TOKEN = re.compile(r"[0-9]{17}[0-9Xx]")
CARD_TOKEN = re.compile(r"[0-9]{16,19}")
# a solid run of 15-19 digits (18: last may be X), or 4-4-4-4[-1..3] groups with one separator
_LONG = re.compile(
    rf"{_LEFT}(?:(?P<solid>[0-9]{{17}}[Xx]|[0-9]{{15,19}})"
    rf"|(?<![0-9][ -])(?P<grouped>[0-9]{{4}}(?P<sep>[ -])[0-9]{{4}}(?P=sep)[0-9]{{4}}(?P=sep)[0-9]{{4}}"
    rf"(?:(?P=sep)[0-9]{{1,3}})?)(?!(?P=sep)[0-9])){_RIGHT}")

# GB/T 2260 province-level codes, plus 81/82/83 (residence permits of Hong Kong, Macao and
# Taiwan residents carry these)
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82", "83"})

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_EARLIEST_BIRTH = _dt.date(1900, 1, 1)


def _birth_ok(yyyymmdd: str, today: _dt.date | None = None) -> bool:
    try:
        d = _dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return _EARLIEST_BIRTH <= d <= (today or _dt.date.today())


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident id."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def looks_like_resident_id(s: str) -> bool:
    """18 characters with a province code and a valid birth date (check character not tested)."""
    return bool(RESIDENT_TOKEN.fullmatch(s)) and s[:2] in PROVINCES and _birth_ok(s[6:14])


def resident_id_ok(s: str) -> bool:
    """A valid 18-character mainland resident id: province, birth date and check character."""
    return looks_like_resident_id(s) and id_check_char(s[:17]) == s[17].upper()


def resident_id15_ok(s: str) -> bool:
    """A valid old 15-digit id: province, city 01-70 or 90, birth date 19YYMMDD, 3 digits."""
    if len(s) != 15 or not s.isascii() or not s.isdigit() or s[:2] not in PROVINCES:
        return False
    city = int(s[2:4])
    return (1 <= city <= 70 or city == 90) and _birth_ok("19" + s[6:12])


def luhn_ok(s: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(s)):
        d = ord(c) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iin_ok(digits: str) -> bool:
    """A known card-number range: 3 (JCB/Diners/...), 4 (Visa), 5 (Mastercard/Maestro),
    6 (UnionPay/Discover/Maestro), 81 (UnionPay), 9 (legacy Chinese bank cards), 2221-2720."""
    first = digits[0]
    if first in "34569":
        return True
    if digits[:2] == "81":
        return True
    return first == "2" and 2221 <= int(digits[:4]) <= 2720


def bank_card_ok(digits: str) -> bool:
    """16-19 digits, a known IIN range, Luhn-valid, and not an 18-digit id look-alike."""
    return (16 <= len(digits) <= 19 and digits.isascii() and digits.isdigit() and iin_ok(digits)
            and luhn_ok(digits) and not (len(digits) == 18 and looks_like_resident_id(digits)))


def _long_items(cell: str):
    """(kind, start, end) for each resident id and bank card in the cell."""
    for m in _LONG.finditer(cell):
        solid = m.group("solid")
        if solid is not None:
            if len(solid) == 18 and resident_id_ok(solid):
                yield "resident_id", m.start(), m.end()
            elif len(solid) == 15 and resident_id15_ok(solid):
                yield "resident_id", m.start(), m.end()
            elif bank_card_ok(solid):
                yield "bank_card", m.start(), m.end()
        else:
            digits = m.group("grouped").replace(m.group("sep"), "")
            if bank_card_ok(digits):
                yield "bank_card", m.start(), m.end()


def id_and_card_matches(cell: str) -> tuple[list[str], list[str]]:
    """Resident ids and bank cards in one cell, as written (grouped cards keep their separators)."""
    ids: list[str] = []
    cards: list[str] = []
    for kind, a, b in _long_items(cell):
        (ids if kind == "resident_id" else cards).append(cell[a:b])
    return ids, cards


def _all_items(cell: str) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    if "@" in cell:
        found += [("email", m.start(), m.end()) for m in EMAIL.finditer(cell)]
    found += [("mobile", m.start(), m.end()) for m in MOBILE.finditer(cell)]
    found += list(_long_items(cell))
    return found


def find_items(cell: str) -> list[tuple[str, int, int]]:
    """Every item in a cell as (kind, start, end), in order, not overlapping (of two
    overlapping items the one starting first, then the longer, is kept: an e-mail whose
    local part is a mobile is one e-mail).

    kind is one of ``mobile``, ``email``, ``resident_id``, ``bank_card``.
    """
    found = _all_items(cell)
    found.sort(key=lambda t: (t[1], -t[2]))
    out: list[tuple[str, int, int]] = []
    end = -1
    for item in found:
        if item[1] >= end:
            out.append(item)
            end = item[2]
    return out


def classify(cell: str) -> set[str]:
    """The kinds of personal data in one cell (empty set: none), as the profiler counts them
    (a mobile inside an e-mail counts as both)."""
    return {kind for kind, _a, _b in _all_items(cell)}


# --- redaction -----------------------------------------------------------------------------
def _mask_digits(s: str, keep_head: int, keep_tail: int) -> str:
    """Mask digits (and a trailing X) by position, keeping separators and the other characters."""
    positions = [i for i, c in enumerate(s) if c.isdigit() or c in "Xx"]
    hide = set(positions[keep_head:len(positions) - keep_tail]) if len(positions) > keep_head + keep_tail else set(positions)
    return "".join("*" if i in hide else c for i, c in enumerate(s))


def _mask_mobile(s: str) -> str:
    # the national number is the last 11 digits: keep its first 3 and last 4
    digits = [i for i, c in enumerate(s) if c.isdigit()]
    hide = set(digits[-8:-4])
    return "".join("*" if i in hide else c for i, c in enumerate(s))


def _mask_email(s: str) -> str:
    local, _, domain = s.rpartition("@")
    return (local[:1] or "*") + "***@" + domain


_MASKS: dict[str, Callable[[str], str]] = {
    "mobile": _mask_mobile,
    "email": _mask_email,
    "resident_id": lambda s: _mask_digits(s, 6, 4),
    "bank_card": lambda s: _mask_digits(s, 4, 4),
}


def redact_item(kind: str, s: str) -> str:
    """Mask one item of a known kind, keeping its shape: ``138****8000``, ``z***@example.com``,
    ``110105********1234``, ``6222 **** **** 1234``."""
    return _MASKS[kind](s)


def redact_text(value: str) -> str:
    """The value with every detected item masked in place (other text unchanged)."""
    if not isinstance(value, str) or not value:
        return value
    items = find_items(value)
    if not items:
        return value
    parts, pos = [], 0
    for kind, a, b in items:
        parts.append(value[pos:a])
        parts.append(redact_item(kind, value[a:b]))
        pos = b
    parts.append(value[pos:])
    return "".join(parts)


def redact(s: str) -> str:
    """Mask one detected item (as the profiler passes it) keeping its shape; a string that is
    no recognised item keeps its first 3 and last 2 characters."""
    red = redact_text(s)
    if red != s:
        return red
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def redact_value(value: Any) -> Any:
    """A JSON value (str, number, list, dict; nested) with every personal item masked.

    Dict keys are redacted too (value counts may be keyed by the value). Integers and
    integral floats whose digits form an item become the masked string; booleans, None and
    other numbers are returned as they are.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e20):
        text = str(int(value))
        red = redact_text(text)
        return value if red == text else red
    if isinstance(value, dict):
        return {redact_value(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value
