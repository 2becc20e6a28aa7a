"""Sellers maintain a listing after it is published: edit its text, add offers, retire offers.

- Edits of the title and summary are live at once and audited with the text before and after;
  the listing is marked ``edited_since_review`` so staff see it in their queue and decide
  (suspend it, or clear the mark by reviewing). The dataset's description, tags and category
  are edited through ``catalog.dataset_update``.
- Prices and terms of an existing offer are never edited in place: a change is a new offer
  (``catalog.offer_create``, allowed on a published listing) and the old one is retired.
- Retiring an offer: it can no longer be bought; contracts already made are unaffected;
  pending requests on it, and approved ones still awaiting payment, are cancelled and the
  buyer told (webhook ``access_request.cancelled``). The last active offer of a published
  listing cannot be retired: retire the listing instead (``catalog.listing_retire``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import AccessRequest, Contract, Listing, Offer
from exchange.services.audit import audit_record
from exchange.services.catalog_flat import listings_refresh_flat
from exchange.services.webhooks import emit
from exchange.validators import one_line

EDITABLE = (Listing.Status.DRAFT, Listing.Status.REJECTED, Listing.Status.PUBLISHED, Listing.Status.IN_REVIEW)


def _require_own(actor: Actor, listing: Listing) -> None:
    if actor.organization is None or listing.dataset.owner_id != actor.organization.pk:
        raise NotFound("No such listing.")
    if not actor.has_scope("sell"):
        raise Forbidden("This API key lacks the 'sell' scope.", code="missing_scope")


def listing_update(*, actor: Actor, listing: Listing, title: str | None = None,
                   summary: str | None = None) -> Listing:
    """Edit a listing's title or summary (not while suspended or retired)."""
    _require_own(actor, listing)
    changes: dict[str, tuple[str, str]] = {}
    with transaction.atomic():
        listing = Listing.objects.select_for_update().select_related("dataset").get(pk=listing.pk)
        if listing.status not in EDITABLE:
            raise Conflict(f"A {listing.get_status_display().lower()} listing cannot be edited.",
                           code="listing_not_editable")
        if title is not None:
            clean = one_line(title, max_length=200)
            if not clean:
                raise InvalidInput("A listing needs a title.", fields={"title": ["Enter a title."]})
            if clean != listing.title:
                changes["title"] = (listing.title, clean)
        if summary is not None:
            clean = summary.strip()[:5000]
            if clean != listing.summary:
                changes["summary"] = (listing.summary, clean)
        if not changes:
            return listing
        for name, (_old, new) in changes.items():
            setattr(listing, name, new)
        fields = [*changes, "updated_at"]
        if listing.status == Listing.Status.PUBLISHED:
            listing.edited_since_review = True
            fields.append("edited_since_review")
        listing.save(update_fields=fields)
        audit_record(actor=actor, action="listing.edited", obj=listing, details={
            name: {"from": old, "to": new} for name, (old, new) in changes.items()})
        if listing.status == Listing.Status.PUBLISHED:
            emit("listing.revised", listing.dataset.owner, {"listing": str(listing.pk), "fields": sorted(changes)})
        listings_refresh_flat([listing.pk])
    return listing


def offer_retire(*, actor: Actor, offer: Offer) -> Offer:
    """Stop selling an offer; cancel what was waiting on it; keep every contract."""
    listing = offer.listing
    _require_own(actor, listing)
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if not offer.is_active:
            raise Conflict("This offer is already retired.", code="offer_retired")
        if (listing.status in (Listing.Status.PUBLISHED, Listing.Status.IN_REVIEW)
                and not listing.offers.filter(is_active=True).exclude(pk=offer.pk).exists()):
            raise Conflict("This is the listing's last offer: add another offer first, or retire the listing.",
                           code="last_offer")
        offer.is_active = False
        offer.save(update_fields=["is_active"])
        now = timezone.now()
        cancelled = []
        waiting = (AccessRequest.objects.select_for_update().select_related("buyer", "seller")
                   .filter(offer=offer, status__in=[AccessRequest.Status.PENDING, AccessRequest.Status.APPROVED]))
        for request in waiting:
            contract = Contract.objects.select_for_update().filter(access_request=request).first()
            if request.status == AccessRequest.Status.APPROVED:
                if contract is None or contract.status != Contract.Status.AWAITING_PAYMENT:
                    continue  # paid: the contract stands
                contract.status = Contract.Status.CANCELLED
                contract.save(update_fields=["status"])
            old = request.status
            request.status, request.decided_at = AccessRequest.Status.CANCELLED, now
            request.decision_reason = "The seller retired this offer."
            request.save(update_fields=["status", "decided_at", "decision_reason"])
            audit_record(actor=actor, action="access_request.cancelled", obj=request, organization=request.seller,
                         details={"from": old, "to": "cancelled", "reason": "offer_retired",
                                  "contract": str(contract.pk) if contract else None})
            emit("access_request.cancelled", (request.seller, request.buyer), {
                "access_request": str(request.pk), "offer": str(offer.pk), "listing": str(listing.pk),
                "buyer": str(request.buyer_id), "seller": str(request.seller_id), "status": request.status,
                "reason": "offer_retired"})
            cancelled.append(str(request.pk))
        audit_record(actor=actor, action="offer.retired", obj=offer, organization=listing.dataset.owner,
                     details={"listing": str(listing.pk), "cancelled_requests": cancelled})
        emit("offer.retired", listing.dataset.owner, {"offer": str(offer.pk), "listing": str(listing.pk)})
        listings_refresh_flat([listing.pk])
    return offer


def listing_edits_acknowledge(*, actor: Actor, listing: Listing) -> Listing:
    """Staff have looked at a published listing's edits and let them stand."""
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff review listing edits.")
    with transaction.atomic():
        listing = Listing.objects.select_for_update().select_related("dataset__owner").get(pk=listing.pk)
        if not listing.edited_since_review:
            raise Conflict("This listing has no edits awaiting a look.")
        listing.edited_since_review = False
        listing.save(update_fields=["edited_since_review", "updated_at"])
        audit_record(actor=actor, action="listing.edits_acknowledged", obj=listing, organization=listing.dataset.owner,
                     details={})
    return listing
