"""Append-only Merkle tree of the audit log (RFC 6962 / RFC 9162 §2.1) and its signed
checkpoints (C2SP ``tlog-checkpoint`` wrapped in a C2SP signed note, Ed25519).

Pure Python, no Django: the exchange builds proofs with it, and a buyer verifies them
with nothing but this module and ``cryptography``.

Trees are read through a *node getter* ``get(level, index)`` that returns the hash of the
perfect subtree covering leaves ``[index·2^level, (index+1)·2^level)`` (level 0 = the leaf
hashes). The exchange stores exactly those nodes as leaves append (see
:func:`nodes_to_store`), so roots and proofs read O(log n) stored hashes instead of
re-hashing the log. Any other subtree an RFC 6962 proof needs is the right edge of some
range and is folded from O(log n) perfect nodes by :func:`range_hash`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
NodeGetter = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof, checkpoint or note does not verify; the message says what did not match."""


# --- Hashing (RFC 6962 §2.1) ---------------------------------------------------
def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes, straight from the RFC's recursive definition (reference)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


# --- Incremental storage ----------------------------------------------------------
def nodes_to_store(index: int, leaf: bytes, get: NodeGetter) -> list[tuple[int, int, bytes]]:
    """The (level, index, hash) nodes completed by appending leaf number ``index``.

    The leaf itself, then each parent whose right child it completes: on average two rows
    per leaf, at most log2(n)+1. Reads only the left siblings on that path
    (:func:`left_siblings`).
    """
    out = [(0, index, leaf)]
    h, level, i = leaf, 0, index
    while i & 1:
        h = node_hash(get(level, i - 1), h)
        i >>= 1
        level += 1
        out.append((level, i, h))
    return out


def left_siblings(index: int) -> list[tuple[int, int]]:
    """The stored nodes :func:`nodes_to_store` reads when leaf ``index`` is appended."""
    out, level, i = [], 0, index
    while i & 1:
        out.append((level, i - 1))
        i >>= 1
        level += 1
    return out


class CompactRange:
    """The right frontier of a tree (at most log2(n)+1 perfect subtrees): append leaf
    hashes one by one, read the root at any size. Memory is O(log n) whatever the log."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing

    def append(self, leaf: bytes) -> None:
        level, h = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            h, level = node_hash(left, h), level + 1
        self._stack.append((level, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h


# --- Roots and proofs from stored nodes --------------------------------------------
def range_hash(start: int, end: int, get: NodeGetter) -> bytes:
    """MTH(D[start:end]) from stored perfect subtrees."""
    n = end - start
    if n <= 0:
        raise ValueError(f"empty range [{start}, {end})")
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        if start % n == 0:
            return get(level, start >> level)
        half = n // 2  # a perfect but unaligned range (never needed by proofs): split it
        return node_hash(range_hash(start, start + half, get), range_hash(start + half, end, get))
    k = _split(n)
    return node_hash(range_hash(start, start + k, get), range_hash(start + k, end, get))


def tree_root(size: int, get: NodeGetter) -> bytes:
    return EMPTY_ROOT if size == 0 else range_hash(0, size, get)


def inclusion_proof(index: int, size: int, get: NodeGetter) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return path(m, start, start + k) + [range_hash(start + k, end, get)]
        return path(m - k, start + k, end) + [range_hash(start, start + k, get)]

    return path(index, 0, size)


def consistency_proof(old_size: int, new_size: int, get: NodeGetter) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(old_size, D[0:new_size]); empty when old_size is 0 or equal."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to the smaller size {new_size}")
    if old_size in (0, new_size):
        return []

    def subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [range_hash(start, end, get)]
        k = _split(n)
        if m <= k:
            return subproof(m, start, start + k, complete) + [range_hash(start + k, end, get)]
        return subproof(m - k, start + k, end, False) + [range_hash(start, start + k, get)]

    return subproof(old_size, 0, new_size, True)


def getter_from_leaves(leaf_hashes: Sequence[bytes]) -> NodeGetter:
    """A node getter over an in-memory list of leaf hashes (tests, small verifiers)."""
    nodes: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(leaf_hashes):
        for level, idx, h in nodes_to_store(i, leaf, lambda lv, ix: nodes[(lv, ix)]):
            nodes[(level, idx)] = h
    return lambda level, index: nodes[(level, index)]


def nodes_read(fn: Callable[[NodeGetter], object]) -> set[tuple[int, int]]:
    """Which stored nodes ``fn(get)`` reads (the set does not depend on hash values), so a
    caller can fetch them all in one query before computing for real."""
    seen: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        seen.add((level, index))
        return b"\x00" * HASH_SIZE

    fn(record)
    return seen


# --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ----------------------------------
def _check_hash(h: bytes, what: str) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    fn, sn, r = index, size - 1, leaf
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash #{i}")
        if sn == 0:
            raise ProofError(f"the inclusion proof is too long for leaf {index} in a tree of size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the inclusion proof is too short for leaf {index} in a tree of size {size}")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless ``proof`` shows leaf ``index`` with hash ``leaf`` in the tree ``root``."""
    _check_hash(root, "the root hash")
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"leaf {index} is not included in the tree of size {size} with that root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raise ProofError unless the tree ``new_root`` (size new_size) extends ``old_root``."""
    _check_hash(old_root, "the old root")
    _check_hash(new_root, "the new root")
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"a tree of size {new_size} cannot extend one of size {old_size}: the log shrank")
    if old_size == new_size:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}: the log forked")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash #{i}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"the first {old_size} entries of the new tree do not hash to the old root: "
                         "entries were rewritten or the log forked")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the new root of size {new_size}")


# --- Checkpoints (c2sp.org/tlog-checkpoint) ----------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"), *self.extensions]
        return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    if not text.endswith("\n"):
        raise ProofError("a checkpoint's text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise ProofError("a checkpoint has an origin, a tree size and a root hash, each on its own non-empty line")
    origin, size_s, root_s, *ext = lines
    if not size_s.isascii() or not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
        raise ProofError(f"checkpoint tree size {size_s[:30]!r} is not a decimal number without leading zeros")
    try:
        root = base64.b64decode(root_s, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError("checkpoint root hash is not base64") from None
    _check_hash(root, "the checkpoint root")
    return Checkpoint(origin, int(size_s), root, tuple(ext))


# --- Signed notes (c2sp.org/signed-note), Ed25519 ------------------------------------
_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "  # em dash, space


def _raw_public(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise ProofError(f"key name {name!r} must be non-empty, without spaces or '+'")


def note_key_id(name: str, public: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4]."""
    raw = public if isinstance(public, bytes) else _raw_public(public)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ED25519 + raw).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> str:
    """The verifier key string ``name+hex(key id)+base64(0x01 ‖ public key)``."""
    _check_name(name)
    raw = public if isinstance(public, bytes) else _raw_public(public)
    return f"{name}+{note_key_id(name, raw).hex()}+{base64.b64encode(_ED25519 + raw).decode('ascii')}"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public: Ed25519PublicKey


def parse_verifier_key(vkey: str) -> VerifierKey:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise ProofError("a verifier key reads name+keyid+base64key")
    name, hex_id, b64 = parts
    _check_name(name)
    try:
        key_id = bytes.fromhex(hex_id)
        typed = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise ProofError("the verifier key's id is not hex or its key is not base64") from None
    if len(key_id) != 4 or len(hex_id) != 8 or len(typed) != 33 or typed[:1] != _ED25519:
        raise ProofError("the verifier key is not an Ed25519 (type 0x01) note key")
    if note_key_id(name, typed[1:]) != key_id:
        raise ProofError("the verifier key's id does not match its name and public key")
    return VerifierKey(name, key_id, Ed25519PublicKey.from_public_bytes(typed[1:]))


def sign_note(text: str, name: str, private: Ed25519PrivateKey) -> str:
    """``text`` (ending in a newline) followed by a blank line and one signature line."""
    _check_name(name)
    if not text.endswith("\n"):
        raise ValueError("a note's text must end with a newline")
    sig = private.sign(text.encode("utf-8"))
    blob = base64.b64encode(note_key_id(name, private) + sig).decode("ascii")
    return f"{text}\n{_SIG_PREFIX}{name} {blob}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


def parse_note(note: str) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signatures (none verified yet)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise ProofError("a signed note must not contain control characters other than newline")
    if not note.endswith("\n"):
        raise ProofError("a signed note must end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise ProofError("a signed note needs a blank line between its text and its signatures")
    text, sig_block = note[:split + 1], note[split + 2:]
    sigs = []
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(_SIG_PREFIX):
            raise ProofError(f"malformed signature line {line[:40]!r}")
        name, sep, b64 = line[len(_SIG_PREFIX):].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise ProofError(f"signature of {name!r} is not base64") from None
        if not sep or not name or len(raw) < 5:
            raise ProofError(f"malformed signature line {line[:40]!r}")
        sigs.append(Signature(name, raw[:4], raw[4:]))
    if not sigs:
        raise ProofError("the note has no signature")
    return text, sigs


def open_note(note: str, verifier_keys: Iterable[str | VerifierKey]) -> str:
    """The note's text once a signature by one of ``verifier_keys`` verifies.

    Signatures by unknown keys are ignored (rotation, witnesses); a known key's failing
    signature rejects the note.
    """
    keys = [k if isinstance(k, VerifierKey) else parse_verifier_key(k) for k in verifier_keys]
    text, sigs = parse_note(note)
    verified = False
    for sig in sigs:
        for key in keys:
            if key.name == sig.name and key.key_id == sig.key_id:
                try:
                    key.public.verify(sig.signature, text.encode("utf-8"))
                except InvalidSignature:
                    raise ProofError(f"the signature by {key.name} ({key.key_id.hex()}) does not verify: "
                                     "the note was altered or signed by another key") from None
                verified = True
    if not verified:
        raise ProofError("no signature on the note is by a known key")
    return text


def sign_checkpoint(checkpoint: Checkpoint, name: str, private: Ed25519PrivateKey) -> str:
    return sign_note(checkpoint.text(), name, private)


def open_checkpoint(note: str, verifier_keys: Iterable[str | VerifierKey], *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and parse it; ``origin`` (when given) must match its first line."""
    cp = parse_checkpoint(open_note(note, verifier_keys))
    if origin is not None and cp.origin != origin:
        raise ProofError(f"the checkpoint is for log {cp.origin!r}, not {origin!r}")
    return cp


def decode_hash(value: str) -> bytes:
    """A hash given as 64 hex characters or base64 (what the REST API returns)."""
    try:
        raw = bytes.fromhex(value) if len(value) == 2 * HASH_SIZE else base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise ProofError(f"{value[:70]!r} is neither hex nor base64") from None
    _check_hash(raw, "a proof hash")
    return raw
