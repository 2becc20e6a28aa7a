"""Reads for after-sales: a firm's disputes (as buyer or seller) and the staff queue."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, Q, QuerySet

from exchange.errors import NotFound
from exchange.models import Dispute, Organization


def disputes_for(*, organization: Organization) -> QuerySet[Dispute]:
    """Disputes where the firm is the buyer or the seller, newest first."""
    return (Dispute.objects.filter(Q(buyer=organization) | Q(seller=organization))
            .select_related("contract__listing", "buyer", "seller").order_by("-created_at", "pk"))


def dispute_for(*, organization: Organization, dispute_id: Any) -> Dispute:
    """One of the firm's disputes; another firm's, an unknown and a malformed id all answer 404."""
    try:
        pk = uuid.UUID(str(dispute_id))
    except ValueError:
        raise NotFound("No such dispute.") from None
    dispute = disputes_for(organization=organization).filter(pk=pk).first()
    if dispute is None:
        raise NotFound("No such dispute.")
    return dispute


def dispute_counts() -> dict[str, int]:
    """Disputes per status (the staff queue's header), in one query."""
    counts = {s: 0 for s in Dispute.Status.values}
    for row in Dispute.objects.values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts
