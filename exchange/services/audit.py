"""Writing and verifying the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.models import AuditChainHead, AuditEvent
from exchange.services.transparency import tree_append

GENESIS_HASH = "0" * 64
# Arbitrary constant key for the PostgreSQL advisory lock that serialises appends.
_CHAIN_LOCK_KEY = 0x5348554A  # "SHUJ"


def canonical_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The fields covered by an event's hash (everything but the hash itself)."""
    return {
        "seq": event.seq,
        "created_at": event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "organization_id": event.organization_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "origin_ip": event.origin_ip,
        "prev_hash": event.prev_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event_payload(event))).hexdigest()


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Any = None,
    organization: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the transaction of the change it records."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if connection.vendor == "postgresql":
        # Serialise appends so every event links to the one before it; released at commit.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # The head, not the newest row, says where the chain continues: an append after the newest
    # events were deleted still links to the deleted ones, so the gap stays visible.
    head = AuditChainHead.objects.filter(pk=1).first()
    last = head or AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    org = organization if organization is not None else actor.organization
    # JSON round trip so the stored details equal what was hashed (UUIDs, dates → str).
    clean_details = json.loads(canonical_bytes(details or {}))
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        created_at=timezone.now(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        organization_id=str(org.pk) if org is not None else "",
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        details=clean_details,
        origin_ip=actor.origin_ip,
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    if head is None:
        AuditChainHead.objects.create(pk=1, seq=event.seq, hash=event.hash, updated_at=event.created_at)
    else:
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash, updated_at=event.created_at)
    tree_append(event)  # the transparency log's leaf, in the same transaction and under the same lock
    return event


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def audit_verify_chain() -> ChainVerification:
    """Recompute every hash and link; name the first event where the chain breaks.

    Detects an edited row (its hash no longer matches), a deleted row (a gap in ``seq``
    or a ``prev_hash`` that points at nothing), reordered rows (links out of order) and a
    truncated chain (fewer events than the head record says).
    """
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    with transaction.atomic():
        # The head is read first: events appended while we walk lie beyond it and are left out.
        head = AuditChainHead.objects.filter(pk=1).first()
        events = AuditEvent.objects.order_by("seq")
        if head is not None:
            events = events.filter(seq__lte=head.seq)
        for event in events.iterator(chunk_size=2000):
            if event.seq != expected_seq:
                return ChainVerification(False, checked, event.seq, f"expected event #{expected_seq} but found #{event.seq} (an event was deleted)")
            if event.prev_hash != expected_prev:
                return ChainVerification(False, checked, event.seq, f"event #{event.seq} does not link to the event before it (deleted, inserted or reordered)")
            if compute_hash(event) != event.hash:
                return ChainVerification(False, checked, event.seq, f"event #{event.seq} was edited: its content no longer matches its hash")
            expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
        # Without a head at the start, only a first append committed while we walked may have made one.
        head_missing = head is None and checked and not AuditChainHead.objects.filter(pk=1).exists()
    if head_missing:
        return ChainVerification(False, checked, None, f"the head record is missing but the chain has {checked} events")
    if head is None:
        return ChainVerification(True, checked)
    if checked < head.seq:
        return ChainVerification(False, checked, checked + 1,
                                 f"truncated: chain has {checked} events, head says {head.seq}")
    if head.hash != expected_prev:
        return ChainVerification(False, checked, head.seq,
                                 f"event #{head.seq} does not match the hash recorded in the head")
    return ChainVerification(True, checked)
