"""Verify a signed delivery ZIP (SPEC §5) — what a buyer's ``verify`` command runs.

Checks, in order (stable names, see :data:`CHECK_NAMES`):

``archive``     readable ZIP; no unsafe names (``..``, absolute, backslash, drive,
                control characters, duplicates), no encryption; declared sizes within
                limits and compression ratios sane, judged from the central directory
                *before* anything is inflated (ZIP bombs are refused unread)
``manifest``    manifest.json present, canonical JSON, ``format`` shujiao-delivery/1,
                required keys well-formed
``signature``   manifest.sig present, 64 bytes, ``key_id`` among the known keys,
                Ed25519 signature over manifest.json's exact bytes valid
``files``       every file the manifest lists is present with its size and SHA-256
                (streamed)
``inventory``   no file in the archive that the manifest does not list, and none
                missing; LICENSE.txt and SHA256SUMS listed
``sha256sums``  SHA256SUMS is exactly the lines the manifest implies
``license``     license.sha256 is the SHA-256 of LICENSE.txt
``expiry``      ``now`` is before ``expires_at``

If the archive cannot be read nothing else is assessed; if the manifest is unusable
the checks that rely on it are reported as not assessed. A signature failure does not
stop the file checks (they still tell the buyer what changed), but the result is not
``ok``. ``first_failure`` is the name of the first failing check.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .archive import (
    MAX_ENTRIES,
    MAX_ENTRY_SIZE,
    MAX_MANIFEST_SIZE,
    MAX_RATIO,
    MAX_TOTAL_SIZE,
    READ_ERRORS,
    archive_problems,
    hash_member,
    read_member,
)
from .manifest import DuplicateKey, manifest_problems, parse_manifest, parse_time
from .spec import (
    FORMAT,
    LICENSE_NAME,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    SUMS_NAME,
    canonical_json,
    key_id,
    load_public_key,
    public_keys_from_jwks,
    sha256sums_text,
)

CHECK_NAMES = ("archive", "manifest", "signature", "files", "inventory", "sha256sums",
               "license", "expiry")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    skipped: bool = False  # not assessed because an earlier check it relies on failed


@dataclass
class VerifyResult:
    ok: bool
    checks: list[Check]
    first_failure: str | None
    manifest: dict[str, Any] | None  # as parsed; trustworthy only when ``ok``
    key_id: str | None = None

    @property
    def first_failure_detail(self) -> str | None:
        for c in self.checks:
            if not c.ok:
                return c.detail
        return None

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


class _Report:
    """Collects checks in order and builds the result."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def add(self, name: str, ok: bool, detail: str, skipped: bool = False) -> None:
        self.checks.append(Check(name, ok, detail, skipped))

    def passed(self, name: str) -> bool:
        return any(c.name == name and c.ok for c in self.checks)

    def skip_rest(self, reason: str) -> None:
        done = {c.name for c in self.checks}
        for name in CHECK_NAMES:
            if name not in done:
                self.add(name, False, f"not assessed: {reason}", skipped=True)

    def result(self, manifest: Any = None, kid: str | None = None) -> VerifyResult:
        first = next((c.name for c in self.checks if not c.ok), None)
        return VerifyResult(ok=first is None, checks=self.checks, first_failure=first,
                            manifest=manifest if isinstance(manifest, dict) else None,
                            key_id=kid)


def _normalise_keys(public_keys: Any) -> dict[str, Ed25519PublicKey]:
    if isinstance(public_keys, dict) and isinstance(public_keys.get("keys"), list):
        return public_keys_from_jwks(public_keys)
    if isinstance(public_keys, list | tuple):
        keys = [load_public_key(k) for k in public_keys]
        return {key_id(k): k for k in keys}
    if not isinstance(public_keys, dict):
        raise ValueError("public_keys must be {kid: key}, a JWKS dict, or a list of keys")
    out = {}
    for kid, k in public_keys.items():
        key = load_public_key(k)
        if key_id(key) != kid:
            raise ValueError(f"public_keys: {kid!r} is not the id of its key ({key_id(key)})")
        out[kid] = key
    return out


def verify_package(
    path_or_file: str | os.PathLike | BinaryIO,
    *,
    public_keys: dict[str, Any],
    now: datetime | None = None,
    max_entries: int = MAX_ENTRIES,
    max_entry_size: int = MAX_ENTRY_SIZE,
    max_total_size: int = MAX_TOTAL_SIZE,
    max_ratio: float = MAX_RATIO,
) -> VerifyResult:
    """Verify a delivery package; never raises for a bad package (the result says
    what is wrong). Raises ``ValueError`` only for bad arguments (keys, naive ``now``).

    ``public_keys`` is ``{kid: Ed25519PublicKey | PEM | raw bytes}``, a JWKS dict
    (``{"keys": [...]}``) or a list of keys.
    """
    keys = _normalise_keys(public_keys)
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")

    report = _Report()
    add, skip_rest, result = report.add, report.skip_rest, report.result

    # --- archive ---------------------------------------------------------------
    own_file = None
    try:
        if isinstance(path_or_file, str | os.PathLike):
            own_file = fh = open(path_or_file, "rb")  # noqa: SIM115 - closed below
        else:
            fh = path_or_file
        archive_size = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        zf = zipfile.ZipFile(fh)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        if own_file:
            own_file.close()
        add("archive", False, f"not a readable ZIP archive: {exc}")
        skip_rest("archive unreadable")
        return result()

    try:
        return _verify_open(zf, archive_size, keys, now, report, max_entries=max_entries, max_entry_size=max_entry_size,
                            max_total_size=max_total_size, max_ratio=max_ratio)
    finally:
        zf.close()
        if own_file:
            own_file.close()


def _verify_open(zf: zipfile.ZipFile, archive_size: int, keys: dict[str, Ed25519PublicKey],
                 now: datetime, report: _Report, **limits: Any) -> VerifyResult:
    add, skip_rest, result = report.add, report.skip_rest, report.result
    problems = archive_problems(zf, archive_size, **limits)
    if problems:
        add("archive", False, "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""))
        skip_rest("archive refused")
        return result()
    names = zf.namelist()
    add("archive", True, f"{len(names)} entries, {archive_size} bytes")

    # --- manifest --------------------------------------------------------------
    manifest: Any = None
    raw: bytes | None = None
    if MANIFEST_NAME not in names:
        add("manifest", False, "manifest.json is missing")
    else:
        try:
            raw = read_member(zf, MANIFEST_NAME, MAX_MANIFEST_SIZE)
            manifest = parse_manifest(raw)
        except DuplicateKey as exc:
            add("manifest", False, f"manifest.json has a duplicate key {exc}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            add("manifest", False, f"manifest.json is not UTF-8 JSON: {exc}")
        except READ_ERRORS as exc:
            add("manifest", False, f"manifest.json unreadable: {exc}")
        else:
            problems = manifest_problems(manifest)
            if isinstance(manifest, dict) and canonical_json(manifest) != raw:
                problems.insert(0, "manifest.json is not canonical JSON (sorted keys, "
                                   "no spaces, UTF-8 without escapes)")
            if problems:
                add("manifest", False, "; ".join(problems))
            else:
                add("manifest", True,
                    f"{FORMAT}, delivery {manifest['delivery_id']}, {len(manifest['files'])} files")
    manifest_ok = report.passed("manifest")

    # --- signature -------------------------------------------------------------
    kid = manifest.get("key_id") if isinstance(manifest, dict) else None
    if raw is None or not isinstance(kid, str):
        add("signature", False, "not assessed: no usable manifest", skipped=True)
    elif SIGNATURE_NAME not in names:
        add("signature", False, "manifest.sig is missing")
    else:
        try:
            sig = read_member(zf, SIGNATURE_NAME, 1024)
        except READ_ERRORS as exc:
            add("signature", False, f"manifest.sig unreadable: {exc}")
        else:
            if len(sig) != 64:
                add("signature", False, f"manifest.sig is {len(sig)} bytes, expected 64")
            elif kid not in keys:
                add("signature", False, f"key_id {kid} is not among the known keys "
                                        f"({', '.join(sorted(keys)) or 'none'})")
            else:
                try:
                    keys[kid].verify(sig, raw)
                except InvalidSignature:
                    add("signature", False, f"signature by key {kid} does not match manifest.json")
                else:
                    add("signature", True, f"Ed25519, key {kid}")

    if not manifest_ok:
        skip_rest("manifest unusable")
        return result(manifest, kid)

    # --- files -----------------------------------------------------------------
    actual: dict[str, str] = {}
    bad: list[str] = []
    for f in manifest["files"]:
        path = f["path"]
        if path not in names:
            bad.append(f"{path}: missing")
            continue
        declared = zf.getinfo(path).file_size
        if declared != f["size"]:
            bad.append(f"{path}: size {declared}, manifest says {f['size']}")
            continue
        try:
            size, digest = hash_member(zf, path)
        except READ_ERRORS as exc:
            bad.append(f"{path}: unreadable ({exc})")
            continue
        actual[path] = digest
        if size != f["size"]:
            bad.append(f"{path}: size {size}, manifest says {f['size']}")
        elif digest != f["sha256"]:
            bad.append(f"{path}: sha256 {digest}, manifest says {f['sha256']}")
    if bad:
        add("files", False, "; ".join(bad))
    else:
        add("files", True, f"{len(actual)} files match their size and SHA-256")

    # --- inventory -------------------------------------------------------------
    listed = {f["path"] for f in manifest["files"]}
    present = set(names) - {MANIFEST_NAME, SIGNATURE_NAME}
    problems = []
    if present - listed:
        problems.append("extra files not in manifest: " + ", ".join(sorted(present - listed)))
    if listed - present:
        problems.append("missing files: " + ", ".join(sorted(listed - present)))
    for required in (LICENSE_NAME, SUMS_NAME):
        if required not in listed:
            problems.append(f"manifest does not list {required}")
    add("inventory", not problems, "; ".join(problems) or f"exactly the {len(listed)} listed files")

    # --- SHA256SUMS ------------------------------------------------------------
    expected_sums = sha256sums_text(manifest["files"])
    if SUMS_NAME not in names:
        add("sha256sums", False, "SHA256SUMS is missing")
    else:
        try:
            sums = read_member(zf, SUMS_NAME, MAX_MANIFEST_SIZE)
        except READ_ERRORS as exc:
            add("sha256sums", False, f"SHA256SUMS unreadable: {exc}")
        else:
            if sums == expected_sums:
                add("sha256sums", True, f"{len(expected_sums.splitlines())} lines match the manifest")
            else:
                add("sha256sums", False, "SHA256SUMS does not match the manifest's files: "
                                         + _first_diff(sums, expected_sums))

    # --- license ---------------------------------------------------------------
    lic_sha = manifest["license"]["sha256"]
    if LICENSE_NAME not in names:
        add("license", False, "LICENSE.txt is missing")
    else:
        got = actual.get(LICENSE_NAME)
        if got is None:
            try:
                got = hash_member(zf, LICENSE_NAME)[1]
            except READ_ERRORS as exc:
                got = f"unreadable ({exc})"
        if got == lic_sha:
            add("license", True, f"LICENSE.txt sha256 {lic_sha}")
        else:
            add("license", False, f"LICENSE.txt sha256 {got}, manifest license.sha256 {lic_sha}")

    # --- expiry ----------------------------------------------------------------
    expires = parse_time(manifest["expires_at"])
    if now < expires:
        add("expiry", True, f"valid until {manifest['expires_at']}")
    else:
        add("expiry", False, f"expired at {manifest['expires_at']} (now {now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ})")

    return result(manifest, kid)


def _first_diff(got: bytes, want: bytes) -> str:
    g, w = got.splitlines(), want.splitlines()
    for i in range(max(len(g), len(w))):
        a = g[i].decode("utf-8", "replace") if i < len(g) else "<no line>"
        b = w[i].decode("utf-8", "replace") if i < len(w) else "<no line>"
        if a != b:
            return f"line {i + 1}: {a!r}, expected {b!r}"
    return "line endings or trailing bytes differ"
