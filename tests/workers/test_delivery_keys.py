"""Keys: ids, encrypted storage, PEM/JWKS publication; canonical JSON."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tests.workers.test_delivery_support import seeded_key
from workers.delivery import (
    canonical_json,
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


def test_canonical_json_sorts_keys_no_spaces_utf8():
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "数交"}}) == (
        '{"a":{"c":"数交","d":[1,2]},"b":1}'.encode()
    )


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_key_id_is_first_16_hex_of_sha256_of_raw_public_key():
    key = seeded_key(1)
    raw = public_key_raw(key.public_key())
    assert len(raw) == 32
    assert key_id(key.public_key()) == hashlib.sha256(raw).hexdigest()[:16] == "34750f98bd59fcfc"
    assert key_id(key) == "34750f98bd59fcfc"  # a private key's public half
    assert key_id(seeded_key(2)) == "6a3803d5f059902a"


def test_generate_private_key_gives_distinct_ed25519_keys():
    a, b = generate_private_key(), generate_private_key()
    assert isinstance(a, Ed25519PrivateKey)
    assert key_id(a) != key_id(b)


def test_encrypted_pem_round_trip():
    key = seeded_key(3)
    pem = private_key_to_encrypted_pem(key, b"correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    loaded = load_private_key_pem(pem, b"correct horse")
    assert key_id(loaded) == key_id(key)
    assert loaded.sign(b"m") == key.sign(b"m")  # Ed25519 is deterministic


def test_wrong_passphrase_raises_value_error():
    pem = private_key_to_encrypted_pem(seeded_key(3), b"correct horse")
    with pytest.raises(ValueError, match="wrong passphrase"):
        load_private_key_pem(pem, b"battery staple")


def test_private_keys_are_never_written_or_read_unencrypted():
    with pytest.raises(ValueError):
        private_key_to_encrypted_pem(seeded_key(3), b"")
    plain = seeded_key(3).private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    with pytest.raises(ValueError, match="not encrypted"):
        load_private_key_pem(plain, b"anything")


def test_public_key_pem_is_spki_and_loads_back_from_pem_str_and_raw():
    public = seeded_key(1).public_key()
    pem = public_key_pem(public)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    for form in (pem, pem.decode(), public_key_raw(public)):
        loaded = load_public_key(form)
        assert isinstance(loaded, Ed25519PublicKey)
        assert key_id(loaded) == "34750f98bd59fcfc"


def test_load_public_key_refuses_garbage():
    with pytest.raises(ValueError):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


def test_jwk_shape_exact():
    public = seeded_key(1).public_key()
    cst = timezone(timedelta(hours=8))
    doc = jwk(public, status="retired", not_before=datetime(2026, 1, 1, 8, 0, 0, 999, tzinfo=cst),
              not_after=datetime(2027, 1, 1, tzinfo=UTC))
    assert doc == {
        "kty": "OKP", "crv": "Ed25519", "x": "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w",
        "kid": "34750f98bd59fcfc", "use": "sig", "alg": "EdDSA", "status": "retired",
        "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
    }
    assert "=" not in doc["x"]


def test_jwk_without_validity_dates_omits_them():
    doc = jwk(seeded_key(1), status="active", not_before=None, not_after=None)
    assert sorted(doc) == ["alg", "crv", "kid", "kty", "status", "use", "x"]


def test_jwk_refuses_bad_status_and_naive_dates():
    with pytest.raises(ValueError):
        jwk(seeded_key(1), status="revoked", not_before=None, not_after=None)
    with pytest.raises(ValueError, match="naive"):
        jwk(seeded_key(1), status="active", not_before=datetime(2026, 1, 1), not_after=None)


def test_jwks_round_trip_to_public_keys():
    old, new = seeded_key(1), seeded_key(2)
    doc = jwks([jwk(old, status="retired", not_before=None, not_after=None),
                jwk(new, status="active", not_before=None, not_after=None)])
    assert list(doc) == ["keys"]
    assert [k["kid"] for k in doc["keys"]] == ["34750f98bd59fcfc", "6a3803d5f059902a"]
    keys = public_keys_from_jwks(doc)
    assert sorted(keys) == ["34750f98bd59fcfc", "6a3803d5f059902a"]
    keys["34750f98bd59fcfc"].verify(old.sign(b"m"), b"m")


def test_jwks_refuses_duplicate_kid():
    one = jwk(seeded_key(1), status="active", not_before=None, not_after=None)
    with pytest.raises(ValueError, match="duplicate"):
        jwks([one, one])


def test_public_keys_from_jwks_refuses_kid_that_is_not_the_keys_id():
    doc = jwks([jwk(seeded_key(1), status="active", not_before=None, not_after=None)])
    doc["keys"][0]["kid"] = "0000000000000000"
    with pytest.raises(ValueError, match="does not match"):
        public_keys_from_jwks(doc)


def test_public_keys_from_jwks_ignores_other_key_types_and_refuses_non_jwks():
    doc = {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB", "kid": "r1"},
                    jwk(seeded_key(2), status="active", not_before=None, not_after=None)]}
    assert list(public_keys_from_jwks(doc)) == ["6a3803d5f059902a"]
    with pytest.raises(ValueError):
        public_keys_from_jwks({"kty": "OKP"})
