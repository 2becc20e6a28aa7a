"""Build the signed delivery ZIP (SPEC §5) in one streaming pass.

Layout written, in this order::

    data/<name>     the source bytes, streamed (STORED by default, ZIP64 always)
    LICENSE.txt     the contract's license text, UTF-8
    datapackage.json, metadata/croissant.json
                    descriptions of the data (when ``describe`` is given, see below)
    SHA256SUMS      "<hex>  <path>" for LICENSE.txt and data/..., as `sha256sum -c` reads
    manifest.json   canonical JSON
    manifest.sig    raw 64-byte Ed25519 signature over manifest.json's bytes

The archive is written strictly sequentially (entries carry a data descriptor, flag
bit 3), so ``out`` may be a pipe or an object-storage upload stream, and the SHA-256 of
the finished package is computed while it is written. The source is read once; its
SHA-256 is computed once and serves both the integrity check against
``expected_sha256`` and the data file's entry in ``files``/``SHA256SUMS``. Hashing runs
on background threads (hashlib releases the GIL), memory stays bounded by a few chunks
whatever the source size.
"""

from __future__ import annotations

import hashlib
import io
import queue
import threading
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workers.metadata.model import DataFile

from .keys import iso_utc, key_id
from .paths import check_described, safe_data_name, validate_data_path
from .verify.spec import (
    FORMAT,
    HEX64_RE,
    LICENSE_NAME,
    MANIFEST_NAME,
    REQUIRED_FIELDS,
    REQUIRED_LICENSE_FIELDS,
    SIGNATURE_NAME,
    SUMS_NAME,
    canonical_json,
    sha256sums_text,
)

__all__ = ["FORMAT", "DeliveryBuildError", "PackageResult", "SourceIntegrityError", "build_package",
           "safe_data_name", "sha256sums_text", "validate_data_path"]

# Keys the builder computes itself; a caller passing them is a bug, not an override.
COMPUTED_FIELDS = ("format", "source_sha256", "files", "key_id")

# Files written with the ZIP's DOS timestamp; ZIP cannot store dates before 1980.
_ZIP_MIN_DATE = (1980, 1, 1, 0, 0, 0)
# Bounded hand-off to each hashing thread: at most this many chunks in flight
# (8 x 1 MiB per hasher), so memory never depends on the source's size.
_HASH_QUEUE_DEPTH = 8


class DeliveryBuildError(Exception):
    """Base class for errors building a delivery."""


class SourceIntegrityError(DeliveryBuildError):
    """The source's SHA-256 is not the one recorded for the stored version.

    The partially written output must be discarded by the caller.
    """

    code = "source_integrity"

    def __init__(self, expected: str, actual: str):
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"source file changed at rest: expected SHA-256 {expected}, read {actual}"
        )


@dataclass(frozen=True)
class PackageResult:
    """What was built.

    ``size``/``sha256``: the source as streamed into ``data/...`` (the one SHA-256
    computed per build; equal to ``manifest["source_sha256"]`` and to the data file's
    ``files`` entry). ``package_size``: bytes written to ``out`` (the ZIP).
    ``package_sha256``: SHA-256 of the ZIP, only when built with ``hash_package=True``
    (it costs a second SHA-256 pass over every byte), else ``None``.
    """

    manifest: dict[str, Any]
    manifest_bytes: bytes
    signature: bytes
    size: int
    sha256: str
    package_size: int = 0
    package_sha256: str | None = None
    key_id: str = ""


def _normalise(value: Any, where: str) -> Any:
    """Make manifest values JSON-ready: datetimes → ISO 8601 UTC Z, dates → ISO,
    UUIDs → str; containers recursively. Anything else non-JSON raises ValueError."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"manifest key {where}.{k!r} is not a string")
            out[k] = _normalise(v, f"{where}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [_normalise(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ValueError(f"manifest value {where} of type {type(value).__name__} is not JSON")


def _check_fields(fields: dict[str, Any]) -> None:
    missing = [k for k in REQUIRED_FIELDS if k not in fields]
    if missing:
        raise ValueError(f"manifest_fields is missing {', '.join(missing)}")
    clash = [k for k in COMPUTED_FIELDS if k in fields]
    if clash:
        raise ValueError(f"manifest_fields must not set computed keys {', '.join(clash)}")
    for party in ("seller", "buyer"):
        p = fields[party]
        if not isinstance(p, dict) or "name" not in p or "credit_code" not in p:
            raise ValueError(f"manifest_fields[{party!r}] needs name and credit_code")
    lic = fields["license"]
    if not isinstance(lic, dict):
        raise ValueError("manifest_fields['license'] must be a dict")
    missing = [k for k in REQUIRED_LICENSE_FIELDS if k not in lic]
    if missing:
        raise ValueError(f"manifest_fields['license'] is missing {', '.join(missing)}")
    if "sha256" in lic:
        raise ValueError("manifest_fields['license'] must not set sha256 (computed from the text)")
    for k in ("issued_at", "expires_at"):
        v = fields[k]
        if not isinstance(v, datetime) or v.tzinfo is None or v.utcoffset() is None:
            raise ValueError(f"manifest_fields[{k!r}] must be a timezone-aware datetime, "
                             f"not naive or {type(v).__name__}")
    if fields["expires_at"] <= fields["issued_at"]:
        raise ValueError("expires_at must be after issued_at")


class _Hasher:
    """SHA-256 fed from a bounded queue on a daemon thread (hashlib releases the GIL
    for buffers over 2 KiB, so hashing overlaps reading, CRC-32 and writing)."""

    _STOP = object()

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self._q: queue.Queue = queue.Queue(maxsize=_HASH_QUEUE_DEPTH)
        self._t = threading.Thread(target=self._run, name="delivery-sha256", daemon=True)
        self._t.start()
        self._done = False

    def _run(self) -> None:
        update, get = self._h.update, self._q.get
        while (item := get()) is not self._STOP:
            update(item)

    def update(self, data: bytes) -> None:
        self._q.put(data)

    def hexdigest(self) -> str:
        self.close()
        return self._h.hexdigest()

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._q.put(self._STOP)
            self._t.join()


class _SequentialHashingWriter(io.RawIOBase):
    """Write-only, tell-able, deliberately non-seekable wrapper around ``out``.

    Being non-seekable makes zipfile write every entry strictly in order (data
    descriptors instead of seeking back), so the bytes hashed here are exactly the
    bytes of the finished file.
    """

    def __init__(self, out: BinaryIO, hasher: _Hasher | None):
        super().__init__()
        self._out, self._hasher, self.pos = out, hasher, 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.pos

    def seek(self, *_args: Any) -> int:
        raise io.UnsupportedOperation("sequential output")

    def write(self, data: Any) -> int:
        # ``data`` may be a memoryview into the source ring buffer: it is handed to the
        # hasher without copying (the ring is sized so it is hashed before reuse).
        n = memoryview(data).nbytes
        self._out.write(data)
        if self._hasher is not None:
            self._hasher.update(data)
        self.pos += n
        return n

    def flush(self) -> None:
        self._out.flush()


def _zipinfo(name: str, when: tuple, deflate: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=max(when, _ZIP_MIN_DATE))
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.create_system = 3  # Unix, so external_attr carries the mode
    info.external_attr = 0o644 << 16
    return info


def build_package(
    *,
    source: BinaryIO,
    out: BinaryIO,
    data_path: str,
    license_text: str,
    manifest_fields: dict[str, Any],
    expected_sha256: str,
    private_key: Ed25519PrivateKey,
    deflate: bool = False,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = 1 << 20,
    hash_package: bool = False,
    describe: Callable[[DataFile, DataFile], Sequence[tuple[str, bytes]]] | None = None,
    source_sha256: str | None = None,
) -> PackageResult:
    """Stream ``source`` into a signed delivery ZIP written to ``out``.

    Raises ``ValueError`` for unsafe ``data_path`` or incomplete ``manifest_fields``
    (before anything is written) and :class:`SourceIntegrityError` when the source's
    SHA-256 differs from ``expected_sha256`` (after streaming it; discard ``out``).
    ``progress(bytes_done)`` is called after each chunk of the source.
    ``hash_package=True`` also computes the finished ZIP's SHA-256
    (``PackageResult.package_sha256``) while writing, at the cost of a second hash pass.

    ``describe(data_file, licence_file)``, called once the data's SHA-256 is known,
    returns extra ``(path, bytes)`` files describing the data (``datapackage.json``,
    ``metadata/croissant.json``: see ``workers.metadata.delivery_metadata_files``); they
    are written after LICENSE.txt and listed in ``files`` and SHA256SUMS like any other.

    ``source`` is read with ``readinto`` into a small ring of reused buffers when it
    has one (no per-chunk allocation), else with ``read``.

    ``source_sha256``: when the data file is a copy made for this buyer (a fingerprinted
    copy), the stored version's SHA-256 for ``manifest["source_sha256"]``; ``expected_sha256``
    is then the copy's own hash (checked as always) and ``files`` lists the copy's bytes.
    """
    validate_data_path(data_path)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("private_key must be an Ed25519PrivateKey")
    expected = str(expected_sha256).strip().lower()
    if not HEX64_RE.fullmatch(expected):
        raise ValueError(f"expected_sha256 {expected_sha256!r} is not 64 hex characters")
    stored_sha = expected if source_sha256 is None else str(source_sha256).strip().lower()
    if not HEX64_RE.fullmatch(stored_sha):
        raise ValueError(f"source_sha256 {source_sha256!r} is not 64 hex characters")
    if not isinstance(license_text, str):
        raise ValueError("license_text must be a str")
    if chunk_size < 4096:
        raise ValueError("chunk_size must be at least 4096")
    _check_fields(manifest_fields)
    fields = _normalise(dict(manifest_fields), "manifest")
    when = tuple(manifest_fields["issued_at"].utctimetuple()[:6])  # entries dated issued_at, UTC

    out_hash = _Hasher() if hash_package else None
    src_hash = _Hasher()
    try:
        writer = _SequentialHashingWriter(out, out_hash)
        with zipfile.ZipFile(writer, mode="w", allowZip64=True) as zf:
            # 1. the data file, streamed; size unknown upfront, hence force_zip64.
            size = 0
            with zf.open(_zipinfo(data_path, when, deflate), mode="w", force_zip64=True) as dest:
                write, feed = dest.write, src_hash.update
                for chunk in _chunks(source, chunk_size):
                    feed(chunk)
                    write(chunk)
                    size += len(chunk)
                    if progress is not None:
                        progress(size)
            actual = src_hash.hexdigest()
            if actual != expected:
                raise SourceIntegrityError(expected, actual)

            # 2. LICENSE.txt and SHA256SUMS, 3. manifest.json, 4. manifest.sig
            license_bytes = license_text.encode("utf-8")
            files = [
                {"path": data_path, "size": size, "sha256": actual},
                {"path": LICENSE_NAME, "size": len(license_bytes),
                 "sha256": hashlib.sha256(license_bytes).hexdigest()},
            ]
            described: list[tuple[str, bytes]] = []
            if describe is not None:
                described = check_described(describe(
                    DataFile(data_path, size, actual),
                    DataFile(LICENSE_NAME, len(license_bytes), files[1]["sha256"])), data_path,
                    {MANIFEST_NAME, SIGNATURE_NAME, SUMS_NAME, LICENSE_NAME})
                files += [{"path": path, "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
                          for path, payload in described]
            sums = sha256sums_text(files)
            files.append({"path": SUMS_NAME, "size": len(sums),
                          "sha256": hashlib.sha256(sums).hexdigest()})
            files.sort(key=lambda f: f["path"])

            manifest = dict(fields)
            manifest["license"] = dict(fields["license"], sha256=files_sha(files, LICENSE_NAME))
            manifest.update(format=FORMAT, source_sha256=stored_sha, files=files,
                            key_id=key_id(private_key))
            manifest_bytes = canonical_json(manifest)
            signature = private_key.sign(manifest_bytes)

            for name, payload in ((LICENSE_NAME, license_bytes), *described, (SUMS_NAME, sums),
                                  (MANIFEST_NAME, manifest_bytes), (SIGNATURE_NAME, signature)):
                zf.writestr(_zipinfo(name, when, deflate), payload)
        writer.flush()
        package_sha = out_hash.hexdigest() if out_hash is not None else None
    finally:
        src_hash.close()
        if out_hash is not None:
            out_hash.close()
    return PackageResult(
        manifest=manifest, manifest_bytes=manifest_bytes, signature=signature,
        size=size, sha256=actual, package_size=writer.pos, package_sha256=package_sha,
        key_id=manifest["key_id"],
    )


def _chunks(source: BinaryIO, chunk_size: int):
    """Yield the source in chunks of up to ``chunk_size`` bytes.

    With ``readinto`` the chunks are memoryviews into a ring of ``_HASH_QUEUE_DEPTH + 2``
    reused buffers: a hasher queue holds at most ``_HASH_QUEUE_DEPTH`` chunks and works
    on one more, so a buffer is never refilled before both hashers are done with it.
    """
    readinto = getattr(source, "readinto", None)
    if readinto is None:
        while chunk := source.read(chunk_size):
            yield chunk if isinstance(chunk, bytes) else bytes(chunk)
        return
    ring = [memoryview(bytearray(chunk_size)) for _ in range(_HASH_QUEUE_DEPTH + 2)]
    i = 0
    while True:
        view = ring[i]
        i = (i + 1) % len(ring)
        n = readinto(view)
        if n is None:
            raise OSError("source returned no data (non-blocking stream?)")
        if not n:
            return
        yield view[:n]


def files_sha(files: list[dict[str, Any]], path: str) -> str:
    """The sha256 recorded for ``path`` in a manifest ``files`` list."""
    for f in files:
        if f["path"] == path:
            return f["sha256"]
    raise KeyError(path)
