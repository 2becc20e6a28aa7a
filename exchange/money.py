"""Money as people read and type it: yuan text ⇄ integer fen, the one parser and formatter.

Amounts are stored and computed as integer fen; every face that shows an amount to a person
(web pages, the admin, licence text, ledger memos, messages) formats it with ``format_yuan``,
and every face that reads an amount a person typed in yuan (web forms, the admin's forms)
parses it with ``parse_yuan``. Pure: no Django import.
"""

from __future__ import annotations

import re
from decimal import Decimal

from exchange.validators import amount_digits

# Plain digits with at most two decimals after optional thousands separators: "1999", "19.9",
# "1,234.50". Exponents, signs other than a leading minus (refused), and other scripts' digits
# (refused by amount_digits with a message) are never guessed at.
_YUAN_RE = re.compile(r"(?P<sign>[-+])?(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]*))?")
# Currency marks people type around an amount with Chinese or Latin input methods.
_PREFIXES = ("¥", "￥", "CNY", "RMB", "人民币")
_SUFFIXES = ("元", "圆", "块", "CNY", "RMB", "yuan")
# 1e15 fen = 10 trillion yuan: far above any price; keeps the integer inside a bigint.
MAX_FEN = 10**15


class AmountError(ValueError):
    """The text is not an amount in yuan; ``code`` says why (script, invalid, negative, too_precise, too_large)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def parse_yuan(text: str) -> int:
    """'１,２３４.５０元' → 123450, exactly (Decimal, never float). Raises ``AmountError``."""
    try:
        mapped = amount_digits(text or "")
    except ValueError as exc:
        raise AmountError(str(exc), "script") from None
    cleaned = mapped.strip().replace(" ", "").replace("\u3000", "")
    sign = ""
    if cleaned[:1] in "-+" and cleaned[:1]:
        sign, cleaned = cleaned[0], cleaned[1:]
    for prefix in _PREFIXES:
        if cleaned.upper().startswith(prefix.upper()):
            cleaned = cleaned[len(prefix):]
            break
    for suffix in _SUFFIXES:
        if cleaned.lower().endswith(suffix.lower()):
            cleaned = cleaned[: -len(suffix)]
            break
    match = _YUAN_RE.fullmatch(sign + cleaned)
    if match is None:
        raise AmountError(f"“{text}” is not an amount in yuan; write e.g. 19.99 or ¥1,234.50.", "invalid")
    if match["sign"] == "-":
        raise AmountError("The amount cannot be negative.", "negative")
    if match["frac"] and len(match["frac"]) > 2:
        raise AmountError("At most 2 decimal places: the smallest amount is ¥0.01.", "too_precise")
    fen = int(Decimal(f"{match['int'].replace(',', '')}.{match['frac'] or '0'}") * 100)
    if fen > MAX_FEN:
        raise AmountError("The amount is too large.", "too_large")
    return fen


def format_yuan(fen: int | None) -> str:
    """123450 → '¥1,234.50'; None → '—'. Integer arithmetic only."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"
