"""Exact personal-data checks (run in Python on the few cells a vectorised prefilter keeps)."""

from __future__ import annotations

import re

# Vectorised (RE2) patterns.
PREFILTER_RE = "[0-9]{11}|@"  # digits for mobile/id/card, e-mail
MOBILE_RE2 = r"(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)"
EMAIL_RE2 = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}"
LONG_DIGITS_RE2 = r"[0-9]{16}"

# Python patterns (exact).
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
EMAIL = re.compile(EMAIL_RE2)
TOKEN = re.compile(r"[0-9A-Za-z]+")
RESIDENT_TOKEN = re.compile(r"[0-9]{17}[0-9Xx]")
CARD_TOKEN = re.compile(r"[0-9]{16,19}")

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def resident_id_ok(s: str) -> bool:
    """ISO 7064 MOD 11-2 check character of an 18-character mainland resident identity number."""
    if not RESIDENT_TOKEN.fullmatch(s):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == s[17].upper()


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


def id_and_card_matches(cell: str) -> tuple[list[str], list[str]]:
    """Resident ids and bank cards in one cell: tokens not touching letters or digits."""
    ids: list[str] = []
    cards: list[str] = []
    for m in TOKEN.finditer(cell):
        tok = m.group()
        if len(tok) < 16 or len(tok) > 19:
            continue
        if len(tok) == 18 and resident_id_ok(tok):
            ids.append(tok)
        elif CARD_TOKEN.fullmatch(tok) and luhn_ok(tok):
            cards.append(tok)
    return ids, cards


def redact(s: str) -> str:
    """Keep the first 3 and last 2 characters: '13812345678' -> '138******78'."""
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]
