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

from .merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    NodeGetter,
    ProofError,
    consistency_proof,
    decode_hash,
    getter_from_leaves,
    inclusion_proof,
    leaf_hash,
    left_siblings,
    node_hash,
    nodes_read,
    nodes_to_store,
    range_hash,
    root_from_inclusion,
    root_of,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from .note import (
    Checkpoint,
    Signature,
    VerifierKey,
    note_key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)

__all__ = [
    "EMPTY_ROOT", "HASH_SIZE", "Checkpoint", "CompactRange", "NodeGetter", "ProofError", "Signature",
    "VerifierKey", "consistency_proof", "decode_hash", "getter_from_leaves", "inclusion_proof", "leaf_hash",
    "left_siblings", "node_hash", "nodes_read", "nodes_to_store", "note_key_id", "open_checkpoint", "open_note",
    "parse_checkpoint", "parse_note", "parse_verifier_key", "range_hash", "root_from_inclusion", "root_of",
    "sign_checkpoint", "sign_note", "tree_root", "verifier_key", "verify_consistency", "verify_inclusion",
]
