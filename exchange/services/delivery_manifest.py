"""What a delivery build writes besides the data: the manifest's fields (with the audit-log
checkpoint that anchors the buyer's copy), a subscription update's diff file, and the progress
heartbeat the build reports through. Used by ``services.delivery.delivery_build`` only."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from exchange.models import AuditEvent, Delivery
from exchange.services.claims import Claim


class DiffPending(Exception):
    """An update delivery's diff is not computed yet: the build waits for it (never ships without)."""


class ProgressHeartbeat:
    """Writes progress and the heartbeat to the delivery row, at most once a second."""

    def __init__(self, claim: Claim):
        self.claim, self._last = claim, 0.0

    def beat(self, bytes_done: int | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < min(1.0, settings.DELIVERY_HEARTBEAT_SECONDS):
            return
        self._last = now
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if bytes_done is not None:
            fields["bytes_done"] = bytes_done
        Delivery.objects.filter(pk=self.claim.pk, claim_token=self.claim.token).update(**fields)

    def __call__(self, bytes_done: int) -> None:
        self.beat(bytes_done)


def audit_checkpoint(delivery: Delivery) -> str:
    """A signed audit-log checkpoint whose tree already holds this delivery's creation events
    (SPEC §11): every buyer keeps an anchor that a later rewrite of the log cannot match."""
    from exchange.services.transparency import checkpoint_covering

    last = AuditEvent.objects.filter(object_type="Delivery", object_id=str(delivery.pk)).aggregate(m=Max("seq"))["m"]
    return checkpoint_covering(last or 1).note


def manifest_fields(delivery: Delivery, *, issued_at, expires_at) -> dict[str, Any]:
    """The manifest's fields for the version this delivery carries."""
    c, version = delivery.contract, delivery.dataset_version
    return {
        "delivery_id": str(delivery.pk), "contract_id": str(c.pk), "listing_id": str(c.listing_id),
        "dataset_version_id": str(version.pk),
        "seller": {"name": c.seller.name, "credit_code": c.seller.credit_code},
        "buyer": {"name": c.buyer.name, "credit_code": c.buyer.credit_code},
        "license": {"purpose": c.purpose, "purpose_restriction": c.purpose_restriction, "term_days": c.term_days,
                    "download_limit": c.download_limit, "redistribution": c.redistribution},
        "dataset": {"title": c.listing.title, "version": version.number, "format": version.format},
        "issued_at": issued_at, "expires_at": expires_at,
        "audit_checkpoint": audit_checkpoint(delivery),
        "guarantee": c.guarantee,  # the frozen quality guarantee (SPEC §5), or null
    }


def update_package_parts(delivery: Delivery, describe):
    """A subscription update's manifest ``update`` entry, and ``describe`` extended with
    ``metadata/diff.json`` (so it is listed in ``files`` and SHA256SUMS). Raises DiffPending
    when a diff it needs could not be computed yet."""
    from exchange.services.subscriptions import DIFF_PATH, update_diff

    diff = update_diff(delivery)
    if diff.pending:
        raise DiffPending(", ".join(f"v{r.version.number}" for r in diff.pending))
    payload = diff.to_bytes()

    def described(data_file, licence_file):
        return [*describe(data_file, licence_file), (DIFF_PATH, payload)]

    return diff.manifest_entry(), described
