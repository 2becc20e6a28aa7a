"""Row keys normalised for near-duplicate and near-conflict counting (no Django).

``normalise(keys)`` maps each value (a row's fields joined by U+001F) to its normalised
form, vectorised: Unicode NFKC, case folded (Unicode lower case, plus ß/ẞ → ss and final
ς → σ as ``str.casefold`` does), punctuation (Unicode category P*) removed, runs of
whitespace (ASCII and Unicode Z*) collapsed to one space, whitespace around field
separators and at both ends removed. ``"Hello,  World"`` and ``"hello world"`` agree.
The normalised keys go to the same bounded-memory KeyStore as the exact ones.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_PUNCT = r"\pP"
_ASCII_PUNCT = r"[!-/:-@\[-`{-~]"
_SPACE = r"[\s\pZ]+"
_SEP_SPACE = " ?\x1f ?"


def normalise(keys: pa.Array) -> pa.Array:
    ascii_only = pc.all(pc.string_is_ascii(keys)).as_py() is not False
    if ascii_only:
        s = pc.ascii_lower(keys)
        s = pc.replace_substring_regex(s, _ASCII_PUNCT, "")
    else:
        s = pc.utf8_normalize(keys, form="NFKC")
        s = pc.utf8_lower(s)
        if pc.any(pc.match_substring_regex(s, "[ßς]")).as_py():
            s = pc.replace_substring(pc.replace_substring(s, "ß", "ss"), "ς", "σ")
        s = pc.replace_substring_regex(s, _PUNCT, "")
    s = pc.replace_substring_regex(s, _SPACE, " ")
    s = pc.replace_substring_regex(s, _SEP_SPACE, "\x1f")
    return pc.utf8_trim(s, characters=" ")
