"""Keys and keyed choices of the fingerprint scheme.

Two keys are derived from the exchange secret:

* the *selection* key, per dataset version (``scope``): which rows carry marks. It is
  the same for every buyer of that version (Li, Swarup & Jajodia 2005: positions come
  from the owner's key, the buyer's fingerprint decides the bits written there), so a
  trace computes it once per leaked row, not once per candidate;
* the *contract* key, per contract: the bit written in each marked cell.

Both are derived with keyed BLAKE2b. Scheme /1 also computes row digests and bits with keyed
BLAKE2b; scheme /2 (every new plan, below) with SipHash-2-4 under keys narrowed from them. Row choice depends only on the row key, never on the row's position, so
reordering or deleting rows leaves every other row's marks in place.
"""

from __future__ import annotations

import hashlib

DOMAIN = b"shujiao-fingerprint/1"


def _derive(secret: bytes, *parts: str) -> bytes:
    h = hashlib.blake2b(key=hashlib.sha256(secret).digest(), digest_size=32, person=b"shujiao-fp-kdf")
    h.update(DOMAIN)
    for p in parts:
        data = p.encode("utf-8")
        h.update(len(data).to_bytes(4, "big") + data)
    return h.digest()


def selection_key(secret: bytes, scope: str) -> bytes:
    """Key choosing the marked rows of one dataset version (``scope``: its id)."""
    if not secret:
        raise ValueError("the fingerprint secret is empty")
    return _derive(secret, "select", scope)


def contract_key(secret: bytes, scope: str, contract_id: str) -> bytes:
    """Key choosing the bits written into one contract's copy."""
    if not secret:
        raise ValueError("the fingerprint secret is empty")
    return _derive(secret, "contract", scope, str(contract_id))


def row_digest(sel_key: bytes, row_key: str) -> bytes:
    """16 bytes: the first 8 decide whether the row is marked (see ``is_selected``)."""
    return hashlib.blake2b(row_key.encode("utf-8"), key=sel_key, digest_size=16).digest()


def row_digest_function(sel_key: bytes):
    """``row_digest`` for one selection key, faster: the keyed state is copied, not rebuilt, per row."""
    base = hashlib.blake2b(key=sel_key, digest_size=16)

    def digest(row_key: str) -> bytes:
        h = base.copy()
        h.update(row_key.encode("utf-8"))
        return h.digest()
    return digest


def threshold(rate: float) -> int:
    """A row is selected when the first 8 bytes of its digest, as an integer, are below this."""
    return int(min(max(rate, 0.0), 1.0) * (1 << 64))


def is_selected(digest: bytes, limit: int) -> bool:
    return int.from_bytes(digest[:8], "big") < limit


def row_bits(contract: bytes, digest: bytes) -> int:
    """512 pseudo-random bits for one (contract, selected row); bit j is column j's mark."""
    return int.from_bytes(hashlib.blake2b(digest, key=contract, digest_size=64).digest(), "big")


def row_bits_function(contract: bytes, width: int = 512):
    """``row_bits`` for one contract, faster: a keyed hasher is copied per row instead of re-keyed,
    and only the ``width`` low bits are returned (the same bits ``row_bits`` gives there)."""
    base = hashlib.blake2b(key=contract, digest_size=64)
    mask = (1 << width) - 1

    def bits(digest: bytes) -> int:
        h = base.copy()
        h.update(digest)
        return int.from_bytes(h.digest(), "big") & mask
    return bits


# --- scheme shujiao-parity/2: SipHash-2-4 (siphash.py) ------------------------------------
# The same two keys, each narrowed to a 16-byte SipHash key by keyed BLAKE2b. A row's digest is
# SipHash-2-4-128 of its key (16 bytes: the first 8 decide selection, as above); the bits of a
# contract are the 64-bit words SipHash-2-4(contract's key, digest || block number), bit j of
# the row in bit j % 64 of word j // 64. Deliveries marked under /1 keep the BLAKE2b functions
# above: the plan they stored names their scheme, and trace follows it.
V1, V2 = "shujiao-parity/1", "shujiao-parity/2"


def sip_key(key: bytes, role: bytes) -> bytes:
    return hashlib.blake2b(key=key, digest_size=16, person=b"shujiao-fp2-" + role).digest()


def row_digest_v2(sel_key: bytes, row_key: str) -> bytes:
    from .siphash import sip128

    return sip128(sip_key(sel_key, b"sel"), row_key.encode("utf-8"))


def row_bits_v2(contract: bytes, digest: bytes, width: int = 512) -> int:
    from .siphash import sip64

    key = sip_key(contract, b"bit")
    return sum(sip64(key, digest + bytes([b])) << (64 * b) for b in range((width + 63) // 64))


def digest_function(scheme: str, sel_key: bytes):
    """The row digest function of ``scheme`` for one selection key (str row key -> bytes)."""
    if scheme == V1:
        return row_digest_function(sel_key)
    if scheme == V2:
        return _sip_digest_function(sip_key(sel_key, b"sel"))
    raise ValueError(f"unknown fingerprint scheme {scheme!r}")


def _sip_digest_function(key: bytes):
    from . import batch, siphash

    if not batch.AVAILABLE:
        return lambda row_key: siphash.sip128(key, row_key.encode("utf-8"))
    import numpy as np

    k0, k1 = (np.uint64(w) for w in siphash.key_words(key))
    one = siphash.one128

    def digest(row_key: str) -> bytes:
        return one(k0, k1, np.frombuffer(row_key.encode("utf-8") or b"\0", dtype=np.uint8),
                   len(row_key.encode("utf-8"))).tobytes()
    return digest


def bits_function(scheme: str, contract: bytes, width: int = 512):
    """``row_bits`` of ``scheme`` for one contract key, its ``width`` low bits (digest -> int)."""
    if scheme == V1:
        return row_bits_function(contract, width)
    if scheme == V2:
        blocks = (width + 63) // 64
        mask = (1 << width) - 1
        from . import batch, siphash

        key = sip_key(contract, b"bit")
        if batch.AVAILABLE:
            import numpy as np

            b0, b1 = (np.uint64(w) for w in siphash.key_words(key))
            return lambda digest: siphash.bits_of_digest(b0, b1, digest, blocks) & mask
        return lambda digest: sum(siphash.sip64(key, digest + bytes([b])) << (64 * b) for b in range(blocks)) & mask
    raise ValueError(f"unknown fingerprint scheme {scheme!r}")
