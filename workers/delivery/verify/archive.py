"""Reading a delivery ZIP safely: member names, declared sizes and compression ratios judged
from the central directory before anything is inflated (ZIP bombs are refused unread)."""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib

# Limits judged from the central directory before reading anything. Deliveries are
# datasets (GBs, stored uncompressed), so size limits are generous; the ratio limit
# is what stops a bomb: real CSV/JSONL deflates 3-20x, a bomb 1000x and more.
MAX_ENTRIES = 1000
MAX_ENTRY_SIZE = 1 << 40          # 1 TiB declared uncompressed per entry
MAX_TOTAL_SIZE = 1 << 40          # 1 TiB declared uncompressed in all
MAX_RATIO = 100                   # declared size / compressed size
RATIO_FLOOR = 1 << 20             # entries up to 1 MiB may compress better than MAX_RATIO
MAX_MANIFEST_SIZE = 4 << 20       # manifest.json and SHA256SUMS are read into memory
_CHUNK = 1 << 20

# What reading a damaged member can raise; a check reports it instead of crashing.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError)


def unsafe_name_reason(name: str) -> str | None:
    """Why an archive member name is unsafe to extract, or None if it is safe."""
    if not name:
        return "empty name"
    if "\\" in name:
        return "backslash in name"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "absolute path"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "control character in name"
    parts = name.split("/")
    if ".." in parts:
        return "'..' in path"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' path segment (or a directory entry)"
    return None


def archive_problems(zf: zipfile.ZipFile, archive_size: int, *, max_entries: int,
                      max_entry_size: int, max_total_size: int, max_ratio: float) -> list[str]:
    infos = zf.infolist()
    problems: list[str] = []
    if len(infos) > max_entries:
        return [f"{len(infos)} entries (limit {max_entries})"]
    seen: set[str] = set()
    total = compressed_total = 0
    for info in infos:
        name = info.filename
        reason = unsafe_name_reason(name)
        if reason:
            problems.append(f"unsafe name {name!r}: {reason}")
            continue
        if name in seen:
            problems.append(f"duplicate entry {name!r}")
        seen.add(name)
        if info.flag_bits & 0x1:
            problems.append(f"{name}: encrypted entry")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(f"{name}: unsupported compression method {info.compress_type}")
        size, csize = info.file_size, info.compress_size
        if size > max_entry_size:
            problems.append(f"{name}: declares {size} bytes (limit {max_entry_size})")
        if info.compress_type == zipfile.ZIP_STORED and size != csize:
            problems.append(f"{name}: stored entry with size {size} != compressed size {csize}")
        if size > RATIO_FLOOR and size > max_ratio * max(csize, 1):
            problems.append(
                f"{name}: compression ratio {size / max(csize, 1):.0f}:1 exceeds {max_ratio:g}:1 "
                f"({size} bytes from {csize}) - refused as a possible ZIP bomb"
            )
        if info.header_offset + csize > archive_size:
            problems.append(f"{name}: data lies beyond the end of the archive")
        total += size
        compressed_total += csize
    if total > max_total_size:
        problems.append(f"declares {total} bytes in all (limit {max_total_size})")
    # Entries that overlap (one compressed stream referenced many times) also make
    # the declared compressed total exceed the archive itself.
    if compressed_total > archive_size:
        problems.append(f"entries declare {compressed_total} compressed bytes in an archive of {archive_size}")
    return problems


def read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise ValueError(f"{name} is {info.file_size} bytes (limit {limit})")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{name} exceeds {limit} bytes")
    return data


def hash_member(zf: zipfile.ZipFile, name: str) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with zf.open(name) as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()
