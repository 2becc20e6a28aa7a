"""The manifest's shape (SPEC §5): parsed strictly (no duplicate keys, no NaN), every
required key well-formed, times in UTC ISO 8601, files listed once, sorted and safe."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from .archive import unsafe_name_reason
from .spec import (
    FORMAT,
    HEX64_RE,
    KEY_ID_RE,
    MANIFEST_NAME,
    REQUIRED_FIELDS,
    REQUIRED_LICENSE_FIELDS,
    SIGNATURE_NAME,
)

_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class DuplicateKey(ValueError):
    pass


def parse_manifest(raw: bytes) -> Any:
    """manifest.json's bytes as JSON; raises ``DuplicateKey``, ``UnicodeDecodeError`` or
    ``json.JSONDecodeError`` (NaN and Infinity are refused too)."""
    return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def manifest_problems(m: Any) -> list[str]:
    if not isinstance(m, dict):
        return ["manifest.json is not a JSON object"]
    p: list[str] = []
    if m.get("format") != FORMAT:
        p.append(f"format is {m.get('format')!r}, expected {FORMAT!r}")
    missing = [k for k in (*REQUIRED_FIELDS, "source_sha256", "files", "key_id") if k not in m]
    if missing:
        p.append(f"missing keys: {', '.join(missing)}")
    if "key_id" in m and not (isinstance(m["key_id"], str) and KEY_ID_RE.fullmatch(m["key_id"])):
        p.append("key_id is not 16 lowercase hex characters")
    if "source_sha256" in m and not (isinstance(m["source_sha256"], str)
                                     and HEX64_RE.fullmatch(m["source_sha256"])):
        p.append("source_sha256 is not 64 lowercase hex characters")
    for party in ("seller", "buyer"):
        if party in m and not (isinstance(m[party], dict) and "name" in m[party]
                               and "credit_code" in m[party]):
            p.append(f"{party} needs name and credit_code")
    lic = m.get("license")
    if "license" in m:
        if not isinstance(lic, dict):
            p.append("license is not an object")
        else:
            lmiss = [k for k in (*REQUIRED_LICENSE_FIELDS, "sha256") if k not in lic]
            if lmiss:
                p.append(f"license is missing {', '.join(lmiss)}")
            elif not (isinstance(lic["sha256"], str) and HEX64_RE.fullmatch(lic["sha256"])):
                p.append("license.sha256 is not 64 lowercase hex characters")
    for k in ("issued_at", "expires_at"):
        if k in m and not (isinstance(m[k], str) and _TIME_RE.fullmatch(m[k])):
            p.append(f"{k} is not a UTC ISO 8601 time like 2026-11-27T10:00:00Z")
        elif k in m:
            try:
                parse_time(m[k])
            except ValueError:
                p.append(f"{k} is not a valid time")
    files = m.get("files")
    if "files" in m:
        if not isinstance(files, list) or not files:
            p.append("files is not a non-empty list")
        else:
            paths = []
            for i, f in enumerate(files):
                if not (isinstance(f, dict) and isinstance(f.get("path"), str)
                        and type(f.get("size")) is int and f["size"] >= 0
                        and isinstance(f.get("sha256"), str) and HEX64_RE.fullmatch(f["sha256"])):
                    p.append(f"files[{i}] is not {{path, size, sha256}}")
                    continue
                reason = unsafe_name_reason(f["path"])
                if reason:
                    p.append(f"files[{i}] path {f['path']!r}: {reason}")
                if f["path"] in (MANIFEST_NAME, SIGNATURE_NAME):
                    p.append(f"files must not list {f['path']}")
                paths.append(f["path"])
            if paths != sorted(set(paths)):
                p.append("files are not sorted by path and unique")
    return p


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DuplicateKey(repr(k))
        out[k] = v
    return out


def _no_constants(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not allowed", name, 0)
