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
# ASCII punctuation as Unicode category P* has it: $ + < = > ^ ` | ~ are symbols and stay (as
# they do on the Unicode path: a value's normal form never depends on the rest of its batch)
_ASCII_PUNCT = r"[!-#%-*,-/:;?@\[-\]_{}]"
# runs that are not already one plain space (replacing a single space by itself costs a
# match per word)
_SPACE = (r"[\s\pZ]{2,}|[\t\n\r\f\v\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}"
          r"\x{3000}]")
_SEP = "\x1f"


# characters NFKC leaves alone and that compose with nothing before them: ASCII, CJK unified
# ideographs, hiragana and katakana letters, Hangul syllables (a combining mark that could
# compose with one of them is outside this set, so its row is normalised)
_NFKC_STABLE = r"[^\x00-\x7f\x{4e00}-\x{9fff}\x{3041}-\x{3096}\x{30a1}-\x{30fa}\x{ac00}-\x{d7a3}]"


def normalise_text(values: pa.Array) -> pa.Array:
    """One column's values, normalised; a column with few distinct values has only its
    distinct values normalised."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) > 256 and len(pc.unique(values.slice(0, 1024))) * 4 < 1024:
        enc = values.dictionary_encode()
        if len(enc.dictionary) * 4 < len(values):
            return normalise_text(enc.dictionary).take(enc.indices)
    return pc.utf8_trim(_normalise(values), characters=" ")


_ASCII_PUNCT_BYTES = b"!\"#%&'()*,-./:;?@[\\]_{}"
_SPACE_NEEDLES = [x.encode() for x in ("  ", "\t", "\n", "\r", "\f", "\v", "\x85", "\u1680", "\u2028", "\u2029")]


def _data(values: pa.Array) -> bytes:
    """The bytes of all values, back to back (a value's bytes never straddle two values
    for the single-byte checks below; a multi-byte needle may: a false hit only costs the
    regex pass it would skip)."""
    buf = values.buffers()[2]
    if buf is None or not len(values):
        return b""
    large = pa.types.is_large_string(values.type)
    offs = pa.Array.from_buffers(pa.int64() if large else pa.int32(), len(values) + 1,
                                 [None, values.buffers()[1]], offset=values.offset)
    return buf[offs[0].as_py():offs[-1].as_py()].to_pybytes()


def _collapse_spaces(s: pa.Array, pattern: str) -> pa.Array:
    data = _data(s)
    if any(data.find(nd) >= 0 for nd in _SPACE_NEEDLES):
        return pc.replace_substring_regex(s, pattern, " ")
    return s


def _normalise(values: pa.Array) -> pa.Array:
    """The values, normalised (see the module docstring).

    Punctuation goes first; only the values that still hold a character outside the
    NFKC-stable set go through NFKC, Unicode lower case and the punctuation pass again
    (NFKC can make punctuation, e.g. ⑴ → (1)); the others need only ASCII lower case.
    """
    if pc.all(pc.string_is_ascii(values)).as_py() is not False:
        return _normalise_ascii(values)
    return _normalise_unicode(values)


def _normalise_ascii(values: pa.Array) -> pa.Array:
    """_normalise for values that are all ASCII (the same result, fewer passes)."""
    s = pc.ascii_lower(values)
    data = _data(s)
    if len(data.translate(None, _ASCII_PUNCT_BYTES)) != len(data):
        s = pc.replace_substring_regex(s, _ASCII_PUNCT, "")
    return _collapse_spaces(s, r"\s{2,}|[\t\n\r\f\v]")


def _normalise_unicode(values: pa.Array) -> pa.Array:
    """_normalise for any values."""
    s = pc.ascii_lower(pc.replace_substring_regex(values, _PUNCT, ""))
    rest = pc.match_substring_regex(s, _NFKC_STABLE)
    if rest.true_count:
        sub = pc.utf8_lower(pc.utf8_normalize(s.filter(rest), form="NFKC"))
        if pc.any(pc.match_substring(sub, "ß")).as_py():
            sub = pc.replace_substring(sub, "ß", "ss")
        if pc.any(pc.match_substring(sub, "ς")).as_py():
            sub = pc.replace_substring(sub, "ς", "σ")
        sub = pc.replace_substring_regex(sub, _PUNCT, "")
        s = pc.replace_with_mask(s, rest, sub)
    return _collapse_spaces(s, _SPACE)


def normalise(keys: pa.Array) -> pa.Array:
    """Values of joined fields (U+001F between fields), each field normalised."""
    s = normalise_text(keys)
    if pc.any(pc.match_substring(s, " " + _SEP)).as_py():
        s = pc.replace_substring(s, " " + _SEP, _SEP)
    if pc.any(pc.match_substring(s, _SEP + " ")).as_py():
        s = pc.replace_substring(s, _SEP + " ", _SEP)
    return s


def normalise_columns(cols: list[pa.Array], text: list[bool]) -> list[pa.Array]:
    """The text columns normalised, the others as they are (``1.5`` and ``15`` stay
    different numbers)."""
    return [normalise_text(c) if t else c for c, t in zip(cols, text, strict=True)]


def join(cols: list[pa.Array]) -> pa.Array:
    """A row key: the fields joined by U+001F."""
    return pc.binary_join_element_wise(*cols, _SEP) if len(cols) > 1 else cols[0]

