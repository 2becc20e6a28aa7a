"""The delivery format a verifier checks against (SPEC §5): file names, required manifest
keys, canonical JSON, SHA256SUMS lines and reading the exchange's public keys.

The builder (``workers/delivery/package.py``) and key handling (``keys.py``) import these
from here, so the package a seller's delivery is built into and the rules a buyer's
verifier applies cannot drift apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

FORMAT = "shujiao-delivery/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
SUMS_NAME = "SHA256SUMS"
LICENSE_NAME = "LICENSE.txt"

REQUIRED_FIELDS = (
    "delivery_id", "contract_id", "listing_id", "dataset_version_id",
    "seller", "buyer", "license", "issued_at", "expires_at",
)
REQUIRED_LICENSE_FIELDS = ("purpose", "term_days", "download_limit", "redistribution")

KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
HEX64_RE = re.compile(r"[0-9a-f]{64}")


def canonical_json(obj: Any) -> bytes:
    """Serialise ``obj`` as canonical JSON: keys sorted, separators ``","``/``":"``,
    non-ASCII kept as UTF-8 (no ``\\u`` escapes), no NaN/Infinity.

    Two equal objects always give the same bytes; ``canonical_json(json.loads(b)) == b``
    holds exactly for bytes that are canonical.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256sums_text(files: list[dict[str, Any]]) -> bytes:
    """SHA256SUMS bytes for manifest ``files`` (every entry except SHA256SUMS itself),
    sorted by path: ``<hex>  <path>\\n`` lines, the format ``sha256sum -c`` reads."""
    lines = [f"{f['sha256']}  {f['path']}\n" for f in sorted(files, key=lambda f: f["path"])
             if f["path"] != SUMS_NAME]
    return "".join(lines).encode("utf-8")


def _as_public(key: Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key
    raise TypeError(f"expected an Ed25519 key, got {type(key).__name__}")


def public_key_raw(public: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key."""
    return _as_public(public).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def key_id(public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """First 16 hex characters of SHA-256 of the raw 32-byte public key.

    A private key is accepted too (its public half is used).
    """
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()[:16]


def load_public_key(
    pem_or_raw: bytes | str | Ed25519PublicKey | Ed25519PrivateKey,
) -> Ed25519PublicKey:
    """A public key from SubjectPublicKeyInfo PEM (bytes or str) or the raw 32 bytes
    (a key object is passed through; a private key gives its public half)."""
    if isinstance(pem_or_raw, Ed25519PublicKey | Ed25519PrivateKey):
        return _as_public(pem_or_raw)
    if not isinstance(pem_or_raw, bytes | bytearray | memoryview | str):
        raise ValueError(f"not a public key: {type(pem_or_raw).__name__}")
    data = pem_or_raw.encode("ascii") if isinstance(pem_or_raw, str) else bytes(pem_or_raw)
    if len(data) == 32 and not data.startswith(b"-----"):
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not an Ed25519 public key (PEM or raw 32 bytes)") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url without padding") from exc


def public_keys_from_jwks(doc: dict[str, Any]) -> dict[str, Ed25519PublicKey]:
    """``{kid: public key}`` for every ``OKP``/``Ed25519`` key in a JWKS document.

    Keys of other types are ignored; an Ed25519 key whose ``kid`` is not the id of
    its ``x`` value (or is missing or malformed) raises ``ValueError``. Retired keys are
    included: they still verify the packages they signed.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError('not a JWKS document: expected {"keys": [...]}')
    out: dict[str, Ed25519PublicKey] = {}
    for i, entry in enumerate(doc["keys"]):
        if not isinstance(entry, dict):
            raise ValueError(f"JWKS keys[{i}] is not an object")
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        raw = b64url_decode(entry.get("x", ""))
        if len(raw) != 32:
            raise ValueError(f"JWKS keys[{i}]: x is not a 32-byte Ed25519 key")
        public = Ed25519PublicKey.from_public_bytes(raw)
        kid = key_id(public)
        if entry.get("kid") != kid:
            raise ValueError(f"JWKS keys[{i}]: kid {entry.get('kid')!r} does not match the key (expected {kid})")
        out[kid] = public
    return out
