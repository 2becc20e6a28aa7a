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
