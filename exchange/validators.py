"""Validators for identifiers the exchange relies on (pure functions, no database)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

# GB 32100-2015: the unified social credit code alphabet (no I, O, S, V, Z) and the
# weights 3^i mod 31 for the first 17 characters.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if bad:
        return f"contains characters not allowed by GB 32100-2015: {''.join(bad)}"
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r} but GB 32100-2015 requires {expected!r}"
    return None


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(f"Invalid unified social credit code: {problem}.", code="invalid_credit_code")


# --- Digits in amounts ---------------------------------------------------------------
# Python's int() and str.isdigit() accept every script's digits ("١٢" == 12, "१२" == 12);
# an amount is only ever written with ASCII or full-width (０-９, typed by Chinese IMEs)
# digits, so those are mapped to ASCII and any other digit is refused, never guessed at.
_FULL_WIDTH = {ord("０") + i: ord("0") + i for i in range(10)}
_FULL_WIDTH.update({ord("．"): ord("."), ord("，"): ord(","), ord("－"): ord("-"), ord("＋"): ord("+")})


def amount_digits(text: str) -> str:
    """``text`` with full-width digits (and ．，－＋) made ASCII; ValueError naming any other digit."""
    mapped = text.translate(_FULL_WIDTH)
    foreign = sorted({ch for ch in mapped if ch.isdigit() and not ("0" <= ch <= "9")} |
                     {ch for ch in mapped if ch.isnumeric() and not ch.isdigit()})
    if foreign:
        raise ValueError(f"Write amounts with digits 0-9 (or full-width ０-９), not {' '.join(foreign)}.")
    return mapped


# --- Text for signed and legal documents ----------------------------------------------
def one_line(text: str, *, max_length: int = 500) -> str:
    """``text`` as one line: every run of control characters, line/paragraph separators and
    whitespace becomes a single space, trimmed and cut to ``max_length``.

    Used for every value placed in a signed licence (titles, names, purposes), so input can
    never start a new, clause-like line in a document the exchange signs.
    """
    import unicodedata

    out: list[str] = []
    for ch in text or "":
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            if out and out[-1] != " ":
                out.append(" ")
        else:
            out.append(ch)
    return "".join(out).strip()[:max_length].rstrip()


def paragraphs(text: str) -> str:
    """Free text kept as paragraphs: Unicode NFC; ``\\r\\n``/``\\r`` and line/paragraph
    separators become ``\\n``; other control and format characters (zero-width, bidi
    overrides, NUL) are dropped, tabs become spaces; spaces at line ends and more than one
    blank line in a row are removed; trimmed. Used for declarations shown on public pages
    and written into metadata, so that what is stored is what every face shows."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFC", text or "")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            continue
        else:
            out.append(ch)
    lines = [line.rstrip() for line in "".join(out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
