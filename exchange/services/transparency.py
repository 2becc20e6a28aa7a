"""The audit transparency log (SPEC §11): the Merkle tree over audit events, signed
checkpoints, proofs, and verifying the log against a checkpoint someone kept.

Leaf ``i`` (0-based) is event ``seq = i + 1``; its leaf data are the event's canonical
bytes (``audit.canonical_bytes(audit.event_payload(event))``, whose SHA-256 is the
event's chain hash). The tree is kept incrementally: ``tree_append`` runs inside the
event's transaction, under the chain's append lock, and stores the leaf hash and every
complete subtree it closes (``AuditTreeNode``; ~2 rows per event). Roots and proofs read
O(log n) stored nodes, fetched in one query (``workers.tlog.nodes_read`` tells which).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from exchange.actor import Actor
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import AuditCheckpoint, AuditEvent, AuditTreeNode, SigningKey
from workers import tlog

logger = logging.getLogger(__name__)
AUDIT_LOG = SigningKey.Purpose.AUDIT_LOG
T = TypeVar("T")


def leaf_data(event: AuditEvent) -> bytes:
    from exchange.services.audit import canonical_bytes, event_payload

    return canonical_bytes(event_payload(event))


# --- Tree ---------------------------------------------------------------------------
def _fetch(coords: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    coords = set(coords)
    if not coords:
        return {}
    rows = AuditTreeNode.objects.filter(level__in={c[0] for c in coords}, index__in={c[1] for c in coords})
    return {(r.level, r.index): bytes(r.hash) for r in rows if (r.level, r.index) in coords}


def _with_nodes(fn: Callable[[tlog.NodeGetter], T]) -> T:
    """Run a workers.tlog computation on stored nodes read in one query."""
    nodes = _fetch(tlog.nodes_read(fn))

    def get(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise IntegrityError(f"audit tree node {level}/{index} is missing") from None

    return fn(get)


def tree_append(event: AuditEvent) -> None:
    """Store the leaf of a just-saved event and the subtrees it completes (caller's transaction)."""
    index = event.seq - 1
    leaf = tlog.leaf_hash(leaf_data(event))
    siblings = _fetch(tlog.left_siblings(index))
    rows = tlog.nodes_to_store(index, leaf, lambda level, i: siblings[(level, i)])
    AuditTreeNode.objects.bulk_create([AuditTreeNode(level=lv, index=ix, hash=h) for lv, ix, h in rows])


def tree_size() -> int:
    last = AuditTreeNode.objects.filter(level=0).aggregate(m=Max("index"))["m"]
    return 0 if last is None else last + 1


def tree_root(size: int) -> bytes:
    return _with_nodes(lambda get: tlog.tree_root(size, get))


def _check_size(size: int, current: int, what: str) -> None:
    if size < 0 or size > current:
        raise InvalidInput(f"{what} {size} is outside the log, which has {current} events.",
                           fields={what: [f"Give a size from 0 to {current}."]})


def inclusion_proof(*, seq: int, size: int | None = None) -> dict:
    """Proof that event ``seq`` is leaf ``seq - 1`` of the tree of ``size`` events (default: now)."""
    current = tree_size()
    size = current if size is None else size
    _check_size(size, current, "tree_size")
    if not 1 <= seq <= size:
        raise InvalidInput(f"Event #{seq} is not in the tree of size {size}.",
                           fields={"tree_size": [f"Give a size of at least {seq}."]})
    index = seq - 1
    proof, root, leaf = _with_nodes(lambda get: (tlog.inclusion_proof(index, size, get), tlog.tree_root(size, get),
                                                 get(0, index)))
    return {"index": index, "tree_size": size, "leaf_hash": leaf, "hashes": proof, "root": root}


def consistency_proof(*, old_size: int, new_size: int | None = None) -> dict:
    current = tree_size()
    new_size = current if new_size is None else new_size
    _check_size(new_size, current, "new_size")
    if not 0 <= old_size <= new_size:
        raise InvalidInput(f"old_size {old_size} must be between 0 and new_size {new_size}.",
                           fields={"old_size": [f"Give a size from 0 to {new_size}."]})
    proof, old_root, new_root = _with_nodes(lambda get: (tlog.consistency_proof(old_size, new_size, get),
                                                         tlog.tree_root(old_size, get), tlog.tree_root(new_size, get)))
    return {"old_size": old_size, "new_size": new_size, "hashes": proof, "old_root": old_root, "new_root": new_root}


# --- Checkpoints ----------------------------------------------------------------------
def _origin() -> str:
    return settings.AUDIT_LOG_ORIGIN


def verifier_keys() -> list[str]:
    """Verifier keys of every audit-log key ever used (newest first), as signed notes name them."""
    from exchange.services.signing import signing_keys_public
    from workers.delivery import load_public_key

    return [tlog.verifier_key(_origin(), load_public_key(k.public_key_pem)) for k in signing_keys_public(purpose=AUDIT_LOG)]


def checkpoint_latest() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-tree_size").first()


def checkpoint_sign() -> AuditCheckpoint:
    """Sign a checkpoint of the tree as it is now (the latest one if the tree did not grow).

    The log's key is created on first use. Refuses to sign a tree that is not an extension
    of the last checkpoint (the log must never sign two inconsistent views).
    """
    from exchange.services.signing import signing_key_ensure, signing_key_for_signing

    signing_key_ensure(actor=Actor.system("audit-log"), purpose=AUDIT_LOG)
    key, private = signing_key_for_signing(purpose=AUDIT_LOG)
    size = tree_size()
    latest = checkpoint_latest()
    if latest is not None and latest.tree_size >= size:
        return latest
    root = tree_root(size)
    if latest is not None and tree_root(latest.tree_size) != bytes(latest.root_hash):
        raise Conflict(f"The audit tree at size {latest.tree_size} no longer matches its signed checkpoint; "
                       "run `manage.py verify_audit` before signing again.", code="audit_log_inconsistent")
    note = tlog.sign_checkpoint(tlog.Checkpoint(_origin(), size, root), _origin(), private)
    try:
        with transaction.atomic():
            return AuditCheckpoint.objects.create(tree_size=size, root_hash=root, note=note, key=key)
    except IntegrityError:  # another signer stored this size first (same root, deterministic signature)
        return AuditCheckpoint.objects.get(tree_size=size)


def checkpoint_sign_if_grown() -> AuditCheckpoint | None:
    """The beat task's job: a new checkpoint when events were added since the last one."""
    latest = checkpoint_latest()
    if latest is not None and latest.tree_size >= tree_size():
        return None
    return checkpoint_sign()


def checkpoint_covering(seq: int) -> AuditCheckpoint:
    """A checkpoint whose tree contains event ``seq``: the latest if it does, else a new one."""
    latest = checkpoint_latest()
    if latest is not None and latest.tree_size >= seq:
        return latest
    checkpoint = checkpoint_sign()
    if checkpoint.tree_size < seq:
        raise NotFound(f"Event #{seq} is not in the audit log yet.")
    return checkpoint


# --- Verification against a kept checkpoint --------------------------------------------
@dataclass(frozen=True)
class CheckpointVerification:
    ok: bool
    reason: str
    checkpoint_size: int = 0
    log_size: int = 0
    broken_seq: int | None = None


def audit_verify_checkpoint(note: str, *, trusted_keys: list[str] | None = None) -> CheckpointVerification:
    """Prove the current log consistent with a checkpoint a buyer kept, naming what broke.

    Recomputes every leaf from the event rows (not trusting stored nodes), checks the root
    at the checkpoint's size against the signed root, then checks the stored tree against
    the recomputed one and verifies the consistency proof the log serves, as an outsider
    would.
    """
    keys = trusted_keys if trusted_keys is not None else verifier_keys()
    try:
        cp = tlog.open_checkpoint(note, keys)
    except tlog.ProofError as exc:
        return CheckpointVerification(False, f"the checkpoint does not verify: {exc}")
    if cp.origin != _origin():
        return CheckpointVerification(False, f"the checkpoint is for log {cp.origin!r}, this log is {_origin()!r}",
                                      cp.size)
    compact = tlog.CompactRange()
    root_at_checkpoint = tlog.EMPTY_ROOT if cp.size == 0 else None
    first_bad_leaf: int | None = None
    with transaction.atomic():
        stored = AuditTreeNode.objects.filter(level=0).order_by("index").values_list("index", "hash")
        stored_iter = iter(stored.iterator(chunk_size=2000))
        for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
            expected = compact.size + 1
            if event.seq != expected:
                return CheckpointVerification(
                    False, f"event #{expected} is missing (found #{event.seq} next): an event was deleted",
                    cp.size, compact.size, expected)
            leaf = tlog.leaf_hash(leaf_data(event))
            stored_row = next(stored_iter, None)
            if first_bad_leaf is None and (stored_row is None or stored_row[0] != compact.size
                                           or bytes(stored_row[1]) != leaf):
                first_bad_leaf = event.seq
            compact.append(leaf)
            if compact.size == cp.size:
                root_at_checkpoint = compact.root()
    n = compact.size
    if n < cp.size:
        return CheckpointVerification(
            False, f"the log has {n} events but the checkpoint covers {cp.size}: events #{n + 1}–#{cp.size} "
                   "were deleted (the log was cut short)", cp.size, n, n + 1)
    if root_at_checkpoint != cp.root:
        where = (f"; event #{first_bad_leaf} no longer matches the leaf logged for it (edited)"
                 if first_bad_leaf is not None and first_bad_leaf <= cp.size else "")
        return CheckpointVerification(
            False, f"the log's first {cp.size} events no longer hash to the checkpoint's root: history before the "
                   f"checkpoint was rewritten or the log forked{where}", cp.size, n,
            first_bad_leaf if first_bad_leaf is not None and first_bad_leaf <= cp.size else None)
    if first_bad_leaf is not None:
        return CheckpointVerification(
            False, f"event #{first_bad_leaf} does not match the leaf stored for it: it was edited after it was logged",
            cp.size, n, first_bad_leaf)
    try:
        proof = consistency_proof(old_size=cp.size, new_size=n)
        if proof["new_root"] != compact.root():
            raise tlog.ProofError("the stored tree's root differs from the root recomputed from the events")
        tlog.verify_consistency(cp.size, n, cp.root, compact.root(), proof["hashes"])
    except (tlog.ProofError, IntegrityError) as exc:
        return CheckpointVerification(False, f"the stored Merkle tree is damaged: {exc}", cp.size, n)
    return CheckpointVerification(True, f"the log of {n} events is consistent with the checkpoint at {cp.size}",
                                  cp.size, n)


def checkpoint_published() -> AuditCheckpoint:
    """What ``/.well-known/shujiao/audit/checkpoint`` serves: the latest checkpoint, signed on
    demand only while there is none yet (beat signs the next ones)."""
    return checkpoint_latest() or checkpoint_sign()
