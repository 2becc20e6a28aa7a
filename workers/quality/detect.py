"""Format detection from the first bytes of a file, and the encoding to start reading with
(encoding.py guesses it; decoding.py confirms it over the whole file)."""

from __future__ import annotations

import codecs
import json

from .encoding import CODECS, Undecodable, guess_encoding
from .lines import universal_newlines
from .sniff import sniff_delimiter as _sniff_delimiter

FORMATS = ("csv", "tsv", "jsonl", "parquet")
REFUSED = ("empty", "json-array", "gzip", "zip", "bzip2", "xz", "zstd", "7z", "pdf", "utf-16", "utf-32", "binary", "unknown-encoding")

_MAGIC = [
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"%PDF", "pdf"),
]
_BOMS = [
    (b"\xff\xfe\x00\x00", "utf-32", "FF FE 00 00"),
    (b"\x00\x00\xfe\xff", "utf-32", "00 00 FE FF"),
]
SUPPORTED_TEXT = ("UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK, Big5 and Windows-1252/Latin-1 "
                  "are accepted")
_NAMES = {
    "gzip": "gzip-compressed", "zip": "a ZIP archive (Excel .xlsx files are ZIP archives too)",
    "bzip2": "bzip2-compressed", "xz": "xz-compressed", "zstd": "zstd-compressed",
    "7z": "a 7-Zip archive", "pdf": "a PDF document",
}
DELIMITERS = (",", "\t", ";", "|")
JSON_ARRAY_MESSAGE = ("file holds one JSON array of objects, which cannot be read in a stream; "
                      "upload JSON Lines instead (one JSON object per line, e.g. jq -c '.[]' data.json > data.jsonl)")


def _hex(b: bytes) -> str:
    return " ".join(f"{x:02X}" for x in b)


def decode_head(head: bytes, encoding: str) -> str | None:
    """Decode the head of a file, tolerating a multi-byte sequence cut at the end."""
    dec = codecs.getincrementaldecoder(encoding)()
    try:
        return dec.decode(head, final=False)
    except UnicodeDecodeError:
        return None


def sniff_encoding(head: bytes, *, final: bool = False) -> tuple[str | None, str]:
    """Return (encoding, problem): the encoding to start reading with, or None and why the
    file is refused. final: the head is the whole file."""
    encoding, _kind, problem = _sniff(head, final=final)
    return encoding, problem


def _sniff(head: bytes, final: bool = False) -> tuple[str | None, str, str]:
    """(encoding, refusal kind (one of REFUSED) or "", problem in words)."""
    if not head:
        return None, "empty", "file is empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return None, kind, (f"file is {_NAMES[kind]} (starts with bytes {_hex(magic)}); "
                                "upload an uncompressed CSV, TSV, JSON Lines or Parquet file")
    for bom, kind, hexs in _BOMS:
        if head.startswith(bom):
            return None, kind, f"file is UTF-32 encoded (byte-order mark {hexs}); {SUPPORTED_TEXT}"
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))  # NUL bytes are its text
    sample = head[:65536]
    nul = 0 if utf16 else sample.count(0)
    if nul:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        if len(sample) >= 4 and nul >= len(sample) // 4 and (even == 0 or odd == 0):
            return None, "utf-16", f"file looks UTF-16 encoded (NUL in every other byte, no byte-order mark); {SUPPORTED_TEXT}"
        if nul > max(8, len(sample) // 100):
            return None, "binary", f"binary content, not text ({nul} NUL bytes in the first {len(sample)} bytes)"
    # a few NULs or other controls inside values are reported (finding control_characters)
    if not utf16:
        ctrl = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
        if ctrl > max(8, len(sample) // 100):
            return None, "binary", f"binary content, not text ({ctrl} control bytes in the first {len(sample)} bytes)"
    try:
        return guess_encoding(head, final=final).encoding, "", ""
    except Undecodable as exc:
        return None, "unknown-encoding", str(exc)


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter whose field count is most consistent over the first lines."""
    return _sniff_delimiter(universal_newlines(text))


def detect_format(head: bytes) -> str:
    """Detect the format from the first bytes (64 KiB or more is best).

    Returns one of FORMATS ('csv', 'tsv', 'jsonl', 'parquet') or, for files that are
    refused, one of REFUSED ('empty', 'gzip', 'zip', 'utf-16', 'utf-32', 'binary',
    'unknown-encoding', ...). `refusal_message(head)` explains a refusal in words.
    """
    if not head:
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    encoding, refused, _problem = _sniff(head)
    if encoding is None:
        return refused
    text = decode_head(head, CODECS[encoding]) or ""  # the codec drops a byte-order mark
    stripped = text.lstrip()
    if not stripped:
        return "empty"
    if stripped.startswith("[") and stripped[1:].lstrip()[:1] in ("{", "]", ""):
        return "json-array"
    if stripped.startswith("{"):
        first = universal_newlines(stripped).split("\n", 1)[0].strip()
        try:
            if isinstance(json.loads(first), dict):
                return "jsonl"
        except ValueError:
            pass
        if first.endswith("}") or "\n" not in stripped:
            return "jsonl"
    return "tsv" if sniff_delimiter(text) == "\t" else "csv"


def refusal_message(head: bytes) -> str | None:
    """Human-readable reason a file with this head is refused, or None if accepted."""
    kind = detect_format(head)
    if kind in FORMATS:
        return None
    if kind == "empty":
        return "file is empty" if not head else "file is empty (only whitespace)"
    if kind == "json-array":
        return JSON_ARRAY_MESSAGE
    return sniff_encoding(head)[1] or f"unsupported file ({kind})"
