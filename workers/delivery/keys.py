"""Ed25519 signing keys: ids, encrypted storage, PEM and JWKS publication (SPEC §5).

A key's id is the first 16 hex characters of the SHA-256 of its raw 32-byte public
key, so anyone can recompute it from the published key. Private keys only ever leave
memory encrypted (PKCS#8 PEM with a passphrase).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

# Reading public keys is part of verifying, so it lives with the verifier's rules.
from .verify.spec import (  # noqa: F401 - re-exported
    KEY_ID_RE,
    _as_public,
    key_id,
    load_public_key,
    public_key_raw,
    public_keys_from_jwks,
)

KEY_STATUSES = ("active", "retired")


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh random Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def public_key_pem(public: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """SubjectPublicKeyInfo PEM, what ``openssl pkeyutl -pubin -inkey`` reads."""
    return _as_public(public).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_key_to_encrypted_pem(key: Ed25519PrivateKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM encrypted with ``passphrase`` (the only form a private key is stored in)."""
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"expected an Ed25519 private key, got {type(key).__name__}")
    if not isinstance(passphrase, bytes | bytearray) or not passphrase:
        raise ValueError("a non-empty passphrase (bytes) is required: private keys are stored encrypted")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(bytes(passphrase)),
    )


def load_private_key_pem(pem: bytes | str, passphrase: bytes) -> Ed25519PrivateKey:
    """Load an encrypted PKCS#8 PEM written by :func:`private_key_to_encrypted_pem`.

    Raises ``ValueError`` for a wrong passphrase, an unencrypted key, a key that is not
    Ed25519, or data that is not a private-key PEM.
    """
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    if not passphrase:
        raise ValueError("a non-empty passphrase is required")
    try:
        key = serialization.load_pem_private_key(bytes(pem), password=bytes(passphrase))
    except TypeError as exc:  # cryptography: "Password was given but private key is not encrypted"
        raise ValueError(f"refusing to load private key: {exc}") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(
            "could not decrypt the private key (wrong passphrase or not a private-key PEM)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def iso_utc(value: datetime) -> str:
    """``2026-11-27T10:00:00Z``: UTC, ISO 8601, ``Z``, whole seconds. Naive datetimes are refused."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: give a timezone-aware datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jwk(
    public_key: Ed25519PublicKey | Ed25519PrivateKey,
    *,
    status: str,
    not_before: datetime | None,
    not_after: datetime | None,
) -> dict[str, Any]:
    """One published key as a JWK (RFC 8037 ``OKP``/``Ed25519``) with its id and status.

    ``not_before``/``not_after`` (the period the key signs in) are included as ISO 8601
    UTC strings when given and left out when ``None``.
    """
    if status not in KEY_STATUSES:
        raise ValueError(f"status must be one of {KEY_STATUSES}, not {status!r}")
    doc: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(public_key_raw(public_key)),
        "kid": key_id(public_key),
        "use": "sig",
        "alg": "EdDSA",
        "status": status,
    }
    if not_before is not None:
        doc["not_before"] = iso_utc(not_before)
    if not_after is not None:
        doc["not_after"] = iso_utc(not_after)
    return doc


def jwks(keys: list[dict[str, Any]]) -> dict[str, Any]:
    """The JWKS document ``{"keys": [...]}`` served at ``/.well-known/shujiao/keys.json``."""
    kids = [k.get("kid") for k in keys]
    if len(set(kids)) != len(kids):
        raise ValueError("duplicate kid in JWKS")
    return {"keys": list(keys)}
