"""Format and encoding detection from the first bytes of a file."""

from __future__ import annotations

import codecs
import json

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
    (b"\xff\xfe", "utf-16", "FF FE"),
    (b"\xfe\xff", "utf-16", "FE FF"),
]
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


def sniff_encoding(head: bytes) -> tuple[str | None, str]:
    """Return (encoding, problem). encoding None means refused; problem explains why."""
    encoding, _kind, problem = _sniff(head)
    return encoding, problem


def _sniff(head: bytes) -> tuple[str | None, str, str]:
    """(encoding, refusal kind (one of REFUSED) or "", problem in words)."""
    if not head:
        return None, "empty", "file is empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return None, kind, (f"file is {_NAMES[kind]} (starts with bytes {_hex(magic)}); "
                                "upload an uncompressed CSV, TSV, JSON Lines or Parquet file")
    for bom, kind, hexs in _BOMS:
        if head.startswith(bom):
            name = "UTF-16" if kind == "utf-16" else "UTF-32"
            return None, kind, f"file is {name} encoded (byte-order mark {hexs}); only UTF-8 and GB18030/GBK are accepted"
    sample = head[:65536]
    nul = sample.count(0)
    if nul:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        if len(sample) >= 4 and nul >= len(sample) // 4 and (even == 0 or odd == 0):
            return None, "utf-16", ("file looks UTF-16 encoded (NUL in every other byte, no byte-order mark); "
                                    "only UTF-8 and GB18030/GBK are accepted")
        if nul > max(8, len(sample) // 100):
            return None, "binary", f"binary content, not text ({nul} NUL bytes in the first {len(sample)} bytes)"
    # a few NULs or other controls inside values are reported (finding control_characters)
    ctrl = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if ctrl > max(8, len(sample) // 100):
        return None, "binary", f"binary content, not text ({ctrl} control bytes in the first {len(sample)} bytes)"
    if head.startswith(b"\xef\xbb\xbf"):
        if decode_head(head[3:], "utf-8") is not None:
            return "utf-8-sig", "", ""
        return None, "unknown-encoding", "file starts with a UTF-8 byte-order mark but is not valid UTF-8"
    if decode_head(head, "utf-8") is not None:
        return "utf-8", "", ""
    if decode_head(head, "gb18030") is not None:
        return "gb18030", "", ""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = head[exc.start:exc.start + 4]
        return None, "unknown-encoding", (f"file is neither UTF-8 nor GB18030/GBK text (byte {_hex(bad[:1])} at offset "
                                          f"{exc.start} is invalid); only UTF-8 and GB18030/GBK are accepted")
    return None, "unknown-encoding", "unrecognised text encoding; only UTF-8 and GB18030/GBK are accepted"


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
    text = decode_head(head[3:] if encoding == "utf-8-sig" else head, encoding) or ""
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
