"""The one rule for buying an offer again, read by every face before it offers a purchase.

A firm may buy an offer again only when nothing of its earlier purchase of that offer is
still open or live:

- a pending request blocks (wait for the seller, or cancel it);
- an approved contract awaiting payment blocks (pay it instead);
- a paid or settled contract blocks while its licence runs: until its term has ended
  (``selectors.licence.licence_ends_at``, the rule every face and the delivery's expiry share) or
  its initial delivery has been revoked or expired. A refunded or cancelled purchase does not block.

``access_request_create`` calls ``purchase_blocks`` under the buyer firm's row lock and refuses
with the block's code; the purchase box calls it to decide whether to show the Buy form and
what to say instead. One function, so the page never offers what the service refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from exchange.models import AccessRequest, Contract, Delivery, Organization
from exchange.selectors.licence import licence_ends_at

_LIVE_CONTRACT = (Contract.Status.AWAITING_PAYMENT, *Contract.LICENCE_HELD)
_ENDED_DELIVERY = ("expired", "revoked")


@dataclass(frozen=True)
class PurchaseBlock:
    """Why this firm cannot buy this offer now: a stable code and a sentence for a person."""

    code: str
    message: str
    licence_ends_at: datetime | None = None


def purchase_blocks(*, buyer: Organization, offers, now: datetime | None = None) -> dict[Any, PurchaseBlock]:
    """Offer id → ``PurchaseBlock`` for every offer the firm may not buy again right now.

    Three queries whatever the number of offers."""
    now = now or timezone.now()
    offer_ids = [getattr(o, "pk", o) for o in offers]
    blocks: dict[Any, PurchaseBlock] = {}
    pending = AccessRequest.objects.filter(buyer=buyer, offer_id__in=offer_ids, status=AccessRequest.Status.PENDING)
    for offer_id in pending.values_list("offer_id", flat=True):
        blocks[offer_id] = PurchaseBlock("duplicate_request", "You already have a pending request for this offer.")
    initial = Prefetch("deliveries", queryset=Delivery.objects.filter(initial=True))  # the licence's own delivery
    contracts = (Contract.objects.filter(buyer=buyer, offer_id__in=offer_ids, status__in=_LIVE_CONTRACT)
                 .select_related("offer").prefetch_related(initial).order_by("-created_at"))
    for contract in contracts:
        offer_id, status, ends_at = contract.offer_id, contract.status, licence_ends_at(contract)
        delivery = contract.delivery
        if offer_id in blocks or (delivery is not None and delivery.status in _ENDED_DELIVERY):
            continue
        if ends_at is not None and ends_at <= now:  # the licence ran out: it may be bought again
            continue
        if status == Contract.Status.AWAITING_PAYMENT:
            blocks[offer_id] = PurchaseBlock(
                "duplicate_request", "You already have an approved request for this offer awaiting payment; pay it instead.")
        elif ends_at is not None:
            blocks[offer_id] = PurchaseBlock(
                "already_licensed",
                f"Your firm already holds a licence for this offer until {timezone.localtime(ends_at):%Y-%m-%d}; "
                "you can buy it again once that licence has ended.", ends_at)
        else:
            blocks[offer_id] = PurchaseBlock(
                "already_licensed", "Your firm has already bought this offer and its delivery is being prepared; "
                "you can buy it again once that licence has ended.")
    return blocks
