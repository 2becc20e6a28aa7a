"""The public catalog API's listing detail shows the lineage chain as the listing page does:
published sides named and linked, any other side only "not listed", the same answer for every
caller, and a query count that does not grow with the chain."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from exchange.models import Listing
from exchange.services.lineage import lineage_declare
from exchange.services.orgs import api_key_create
from tests.lineage.conftest import buy
from tests.trading.conftest import build_listing

pytestmark = pytest.mark.django_db


def _declare(actor, offer, upstream_offer):
    return lineage_declare(actor=actor, version=offer.listing.version, derived_from=upstream_offer.listing.version.pk,
                           steps=["relabelled", "deduplicated"], notes="merged near-duplicates")


def _detail(listing_id, client=None):
    response = (client or APIClient()).get(f"/api/v1/catalog/{listing_id}/")
    assert response.status_code == 200, response.content
    return response


def _key_client(actor):
    _, secret = api_key_create(actor=actor, name="t", scopes=["read", "buy"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def test_detail_shows_the_chain_both_ways(chain, actor_for):
    c = chain(share_bp=1250)
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    up, down = c.upstream_offer.listing, c.derived_offer.listing

    lineage = _detail(down.pk).json()["lineage"]

    assert lineage == {"derived_from": {"listed": True, "listing": str(up.pk), "title": up.title,
                                        "seller": "Upstream Labs", "version_number": 1,
                                        "steps": ["deduplicated", "relabelled"], "notes": "merged near-duplicates",
                                        "share_bp": 1250},
                       "used_in": []}
    upstream_side = _detail(up.pk).json()["lineage"]
    assert upstream_side["derived_from"] is None
    assert [(d["listing"], d["title"], d["seller"]) for d in upstream_side["used_in"]] == [
        (str(down.pk), down.title, "Cleaner Co")]


def test_a_listing_without_lineage_says_so(chain):
    c = chain()
    assert _detail(c.upstream_offer.listing_id).json()["lineage"] == {"derived_from": None, "used_in": []}


def test_anonymous_visitors_get_the_buyers_answer(chain, actor_for):
    c = chain()
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    listing_id = c.derived_offer.listing_id
    anonymous = _detail(listing_id).json()
    assert _detail(listing_id, _key_client(actor_for(c.buyer))).json() == anonymous
    # the licensee (who declared it) and the upstream seller see the same public answer too
    assert _detail(listing_id, _key_client(actor_for(c.licensee))).json() == anonymous
    assert _detail(listing_id, _key_client(actor_for(c.upstream_seller))).json() == anonymous


def test_an_unpublished_source_is_not_revealed(chain, actor_for):
    c = chain(share_bp=1250)
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    up = c.upstream_offer.listing
    Listing.objects.filter(pk=up.pk).update(status=Listing.Status.SUSPENDED)

    response = _detail(c.derived_offer.listing_id)

    assert response.json()["lineage"]["derived_from"] == {
        "listed": False, "listing": None, "title": None, "seller": None, "version_number": None,
        "steps": ["deduplicated", "relabelled"], "notes": "merged near-duplicates", "share_bp": 1250}
    body = response.content.decode()
    for secret in (str(up.pk), up.title, str(up.version_id), up.dataset.title, "Upstream Labs", str(c.licence.pk)):
        assert secret not in body


def test_an_unpublished_derivative_is_not_listed_upstream(chain, actor_for):
    c = chain()
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    down = c.derived_offer.listing
    Listing.objects.filter(pk=down.pk).update(status=Listing.Status.DRAFT)
    response = _detail(c.upstream_offer.listing_id)
    assert response.json()["lineage"]["used_in"] == []
    assert down.title not in response.content.decode() and str(down.pk) not in response.content.decode()


def test_the_public_version_carries_no_licence(chain, actor_for):
    c = chain()
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    data = _detail(c.derived_offer.listing_id).json()
    assert "lineage" not in data["version"] and str(c.licence.pk) not in str(data)


def test_detail_queries_do_not_grow_with_the_chain(chain, make_firm, actor_for, fund):
    c = chain()
    listing_id = c.upstream_offer.listing_id

    def derive_one():
        firm = make_firm()
        fund(firm, 100_000)
        buy(actor_for(firm), c.upstream_offer)
        offer = build_listing(firm)
        _declare(actor_for(firm), offer, c.upstream_offer)

    derive_one()
    with CaptureQueriesContext(connection) as one:
        _detail(listing_id)
    derive_one()
    derive_one()
    with CaptureQueriesContext(connection) as three:
        assert len(_detail(listing_id).json()["lineage"]["used_in"]) == 3
    assert len(three.captured_queries) == len(one.captured_queries)
