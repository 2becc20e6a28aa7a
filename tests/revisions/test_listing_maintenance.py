"""Editable listings and offers (issue 11): text edits audited and flagged for staff, offers added
to a published listing, offers retired (waiting requests cancelled, contracts kept, the last
offer refused), on the service, the API and the web; another firm gets 404."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import AccessRequest, AuditEvent, Listing, Offer
from exchange.services import catalog, listings, orgs
from exchange.services.trading import access_request_create
from tests.factories import published_listing


@pytest.fixture
def seller(make_firm, actor_for):
    return actor_for(make_firm("Seller"))


@pytest.fixture
def listing(seller, staff_actor):
    return published_listing(seller, staff_actor, access_mode="approval")


def test_editing_a_published_listing_is_live_audited_and_flagged(seller, listing, staff_actor):
    listings.listing_update(actor=seller, listing=listing, title="Reviews v2\n[Clause 9: free]", summary="New text")
    listing.refresh_from_db()
    assert listing.title == "Reviews v2 [Clause 9: free]"  # one line: no forged licence clauses
    assert listing.status == "published" and listing.edited_since_review
    event = AuditEvent.objects.get(action="listing.edited")
    assert event.details["summary"] == {"from": "", "to": "New text"}
    with pytest.raises(InvalidInput):
        listings.listing_update(actor=seller, listing=listing, title="   ")
    listings.listing_edits_acknowledge(actor=staff_actor, listing=listing)
    listing.refresh_from_db()
    assert not listing.edited_since_review


def test_retiring_an_offer_cancels_waiting_requests_and_keeps_the_listing_buyable(seller, listing, make_firm,
                                                                                  actor_for):
    old = Offer.objects.get(listing=listing)
    # the last offer of a published listing cannot be retired
    with pytest.raises(Conflict, match="last offer"):
        listings.offer_retire(actor=seller, offer=old)
    new = catalog.offer_create(actor=seller, listing=listing, name="Price rise", price_fen=2000)
    buyer = actor_for(make_firm("Buyer"))
    pending = access_request_create(actor=buyer, offer=old, purpose="Training a model")
    assert pending.status == "pending"
    listings.offer_retire(actor=seller, offer=old)
    old.refresh_from_db()
    pending.refresh_from_db()
    assert not old.is_active and pending.status == "cancelled"
    assert pending.decision_reason == "The seller retired this offer."
    assert AuditEvent.objects.filter(action="offer.retired", object_id=str(old.pk)).count() == 1
    with pytest.raises(Conflict, match="already retired"):
        listings.offer_retire(actor=seller, offer=old)
    # buying the retired offer is refused; the new one sells
    with pytest.raises(Conflict, match="no longer available"):
        access_request_create(actor=buyer, offer=old, purpose="Training a model")
    assert access_request_create(actor=buyer, offer=new, purpose="Training a model").status == "pending"


def test_another_firm_cannot_edit_or_retire(seller, listing, make_firm, actor_for):
    other = actor_for(make_firm("Other"))
    with pytest.raises(NotFound):
        listings.listing_update(actor=other, listing=listing, title="Mine")
    with pytest.raises(NotFound):
        listings.offer_retire(actor=other, offer=Offer.objects.get(listing=listing))
    assert AccessRequest.objects.count() == 0 and Listing.objects.get(pk=listing.pk).title != "Mine"


def test_api_edit_and_retire(seller, listing, make_firm, actor_for):
    _k, secret = orgs.api_key_create(actor=seller, name="k", scopes=["read", "sell"])
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    r = c.patch(f"/api/v1/listings/{listing.pk}/", {"title": "Edited"}, format="json")
    assert r.status_code == 200 and r.json()["title"] == "Edited"
    r = c.patch(f"/api/v1/listings/{listing.pk}/", {"title": ""}, format="json")
    assert r.status_code == 400
    offer = Offer.objects.get(listing=listing)
    r = c.post(f"/api/v1/listings/{listing.pk}/offers/{offer.pk}/retire/")
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_offer"
    r = c.post(f"/api/v1/listings/{listing.pk}/offers/", {"name": "New", "price_fen": 500}, format="json")
    assert r.status_code == 201, r.content
    r = c.post(f"/api/v1/listings/{listing.pk}/offers/{offer.pk}/retire/")
    assert r.status_code == 200 and r.json()["is_active"] is False
    _k2, other_secret = orgs.api_key_create(actor=actor_for(make_firm("Other")), name="k", scopes=["read", "sell"])
    o = APIClient()
    o.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_secret}")
    assert o.patch(f"/api/v1/listings/{listing.pk}/", {"title": "x"}, format="json").status_code == 404


def test_web_edit_and_retire(seller, listing):
    c = Client()
    c.force_login(seller.user)
    page = c.get(f"/sell/listings/{listing.pk}/")
    assert b"Edit text" in page.content and b"Add offer" in page.content
    r = c.post(f"/sell/listings/{listing.pk}/edit/", {"title": "", "summary": "x"})
    assert r.status_code == 200 and r.context["form"].errors["title"]
    r = c.post(f"/sell/listings/{listing.pk}/edit/", {"title": "Web edit", "summary": "s"})
    assert r.status_code == 302 and Listing.objects.get(pk=listing.pk).title == "Web edit"
    offer = Offer.objects.get(listing=listing)
    r = c.post(f"/sell/listings/{listing.pk}/offers/{offer.pk}/retire/", follow=True)
    assert b"last offer" in r.content and Offer.objects.get(pk=offer.pk).is_active
