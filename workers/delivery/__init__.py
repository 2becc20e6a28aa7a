"""Signed per-buyer deliveries (SPEC §5): packaging, signing, keys and verification.

Pure Python, no Django: the Django services and Celery tasks call these functions,
and a buyer can run the verifier on its own (``python -m workers.delivery``).
"""

from .canonical import canonical_json
from .keys import (
    generate_private_key,
    jwk,
    jwks,
    key_id,
    load_private_key_pem,
    load_public_key,
    private_key_to_encrypted_pem,
    public_key_pem,
    public_key_raw,
    public_keys_from_jwks,
)
from .package import (
    FORMAT,
    DeliveryBuildError,
    PackageResult,
    SourceIntegrityError,
    build_package,
    safe_data_name,
    validate_data_path,
)
from .verify import CHECK_NAMES, Check, VerifyResult, verify_package

__all__ = [
    "CHECK_NAMES", "FORMAT", "Check", "DeliveryBuildError", "PackageResult",
    "SourceIntegrityError", "VerifyResult", "build_package", "canonical_json",
    "generate_private_key", "jwk", "jwks", "key_id", "load_private_key_pem",
    "load_public_key", "private_key_to_encrypted_pem", "public_key_pem", "public_key_raw",
    "public_keys_from_jwks", "safe_data_name", "validate_data_path", "verify_package",
]
