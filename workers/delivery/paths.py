"""Safe paths inside a delivery package: the data file's name and the described files'.

Conservative on purpose: ASCII names that need no escaping in SHA256SUMS and extract
identically on every OS.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# One path segment under data/: ASCII letters, digits, "._-", not starting with a dot
# (so never "." or ".."), at most 255 bytes. Conservative on purpose: such names need
# no escaping in SHA256SUMS and extract identically on every OS.
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,254}")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}
# Extension used for each stored format (DatasetVersion.format); others are sanitised.
_FORMAT_EXT = {"csv": "csv", "tsv": "tsv", "jsonl": "jsonl", "jsonlines": "jsonl",
               "json_lines": "jsonl", "ndjson": "jsonl", "parquet": "parquet"}


def validate_data_path(data_path: str) -> str:
    """Return ``data_path`` if it is ``data/<segment>[/<segment>...]`` with safe
    ASCII segments; raise ``ValueError`` otherwise (``..``, absolute, backslash,
    empty segment, non-ASCII, control characters...)."""
    if not isinstance(data_path, str):
        raise ValueError(f"data_path must be a str, not {type(data_path).__name__}")
    parts = data_path.split("/")
    if len(parts) < 2 or parts[0] != "data":
        raise ValueError(f"unsafe data_path {data_path!r}: must be relative and start with 'data/'")
    for seg in parts[1:]:
        if not _SEGMENT_RE.fullmatch(seg):
            raise ValueError(
                f"unsafe data_path {data_path!r}: segment {seg!r} must be 1-255 of "
                "[A-Za-z0-9._-] not starting with '.'"
            )
    return data_path


def safe_data_name(title_or_filename: str, fmt: str) -> str:
    """An ASCII-safe file name for the data file, e.g.
    ``safe_data_name("Reviews 2024 (cleaned).CSV", "csv") == "reviews-2024-cleaned.csv"``.

    Accents are folded to ASCII, other non-ASCII characters are dropped, runs of
    anything but ``[a-z0-9._]`` become one ``-``, an existing extension equal to the
    format's is not doubled; an empty result becomes ``dataset``. The delivery's
    data path is ``"data/" + safe_data_name(...)``.
    """
    ext = _FORMAT_EXT.get(str(fmt).strip().lower().lstrip("."))
    if ext is None:
        ext = re.sub(r"[^a-z0-9]", "", str(fmt).lower())[:16]
    text = unicodedata.normalize("NFKD", str(title_or_filename))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    # Drop a trailing extension that is the format's (or an alias of it).
    stem, dot, tail = text.rpartition(".")
    if dot and (tail == ext or _FORMAT_EXT.get(tail) == ext):
        text = stem
    text = re.sub(r"[^a-z0-9._]+", "-", text)
    text = re.sub(r"[-._]*\.[-._]*", ".", text)  # no "..", no ".-"
    text = text.strip("-._")[:100].strip("-._") or "dataset"
    if text.split(".")[0] in _WINDOWS_RESERVED:
        text = "dataset-" + text
    return f"{text}.{ext}" if ext else text


def check_described(files: Sequence[tuple[str, bytes]], data_path: str, reserved: set[str]) -> list[tuple[str, bytes]]:
    """The extra files ``describe`` returned, checked: safe relative ASCII paths, not under
    data/, not a name the builder writes, no duplicates, bytes payloads."""
    out, seen = [], set()
    for item in files:
        path, payload = item
        segments = str(path).split("/")
        if not all(_SEGMENT_RE.fullmatch(seg) for seg in segments) or segments[0] == "data":
            raise ValueError(f"unsafe described file path {path!r}")
        if path in reserved or path == data_path or path in seen:
            raise ValueError(f"described file {path!r} clashes with another file in the package")
        if not isinstance(payload, bytes):
            raise ValueError(f"described file {path!r} must be bytes, not {type(payload).__name__}")
        seen.add(path)
        out.append((path, payload))
    return out
