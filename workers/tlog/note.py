"""C2SP ``tlog-checkpoint`` text and C2SP signed notes with Ed25519 (type 0x01)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .merkle import ProofError, _check_hash


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
