"""Web faces of lineage: the listing page's chain both ways (constant queries, nothing private
leaks), the seller's declaration form, the offer form's share, both sellers' sales pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from exchange.models import Listing, Offer, VersionLineage
from exchange.services import escrow
from exchange.services.lineage import lineage_declare
from tests.lineage.conftest import buy
from tests.trading.conftest import build_listing

pytestmark = pytest.mark.django_db


def client_for(org) -> Client:
    client = Client()
    client.force_login(org.memberships.select_related("user").first().user)
    return client


def _declare(actor, offer, upstream_offer, steps=("deduplicated", "relabelled"), notes="merged near-duplicates"):
    return lineage_declare(actor=actor, version=offer.listing.version, derived_from=upstream_offer.listing.version.pk,
                           steps=list(steps), notes=notes)


def test_listing_pages_show_the_chain_both_ways(chain, actor_for):
    c = chain()
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    up_url, down_url = f"/listings/{c.upstream_offer.listing_id}/", f"/listings/{c.derived_offer.listing_id}/"
    down = Client().get(down_url).content.decode()
    assert "Derived from" in down and f'href="{up_url}"' in down and c.upstream_offer.listing.title in down
    assert "Deduplicated" in down and "Relabelled" in down and "merged near-duplicates" in down
    assert "12.5%" in down  # the share buyers of derived data see the upstream seller gets
    up = Client().get(up_url).content.decode()
    assert "Used in" in up and f'href="{down_url}"' in up and c.derived_offer.listing.title in up
    # the upstream offer's terms state the derivative licence
    assert "Allowed: you may sell data derived from it, paying the seller 12.5%" in up


def test_unpublished_sides_are_not_linked_and_leak_nothing(chain, actor_for):
    c = chain()
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    Listing.objects.filter(pk=c.upstream_offer.listing_id).update(status=Listing.Status.SUSPENDED)
    down = Client().get(f"/listings/{c.derived_offer.listing_id}/").content.decode()
    assert "A version not listed on the exchange" in down
    assert c.upstream_offer.listing.title not in down and str(c.upstream_offer.listing_id) not in down
    Listing.objects.filter(pk=c.upstream_offer.listing_id).update(status=Listing.Status.PUBLISHED)
    Listing.objects.filter(pk=c.derived_offer.listing_id).update(status=Listing.Status.DRAFT)
    up = Client().get(f"/listings/{c.upstream_offer.listing_id}/").content.decode()
    assert "Used in" not in up and c.derived_offer.listing.title not in up


def test_listing_page_queries_do_not_grow_with_the_chain(chain, make_firm, actor_for, fund):
    c = chain()
    url = f"/listings/{c.upstream_offer.listing_id}/"

    def derive_one():
        firm = make_firm()
        fund(firm, 100_000)
        buy(actor_for(firm), c.upstream_offer)
        offer = build_listing(firm)
        _declare(actor_for(firm), offer, c.upstream_offer)

    derive_one()
    with CaptureQueriesContext(connection) as one:
        assert Client().get(url).status_code == 200
    derive_one()
    derive_one()
    with CaptureQueriesContext(connection) as three:
        page = Client().get(url)
    assert page.status_code == 200 and page.content.decode().count('class="lineage-link"') == 3
    assert len(three.captured_queries) == len(one.captured_queries)


def test_seller_declares_on_the_version_page(chain, actor_for):
    c = chain()
    version = c.derived_offer.listing.version
    client = client_for(c.licensee)
    url = f"/sell/versions/{version.pk}/lineage/"
    page = client.get(url).content.decode()
    assert c.upstream_offer.listing.title in page and "share 12.5%" in page
    r = client.post(url, {"derived_from": str(c.upstream_offer.listing.version_id), "steps": ["shuffled"]})
    assert r.status_code == 400 and not VersionLineage.objects.exists()
    r = client.post(url, {"derived_from": str(c.upstream_offer.listing.version_id), "steps": ["filtered"],
                          "notes": "dropped empty rows"})
    assert r.status_code == 302
    assert VersionLineage.objects.get(version=version).steps == ["filtered"]
    assert "Derived from" in client.get(f"/sell/datasets/{version.dataset_id}/").content.decode()
    assert "Lineage is fixed once declared" in client.get(url).content.decode()
    # another firm's version: 404
    assert client_for(c.buyer).get(url).status_code == 404


def test_form_names_the_refusal(chain, actor_for):
    c = chain(derivatives_allowed=False, share_bp=0)
    client = client_for(c.licensee)
    url = f"/sell/versions/{c.derived_offer.listing.version_id}/lineage/"
    assert "derivatives not allowed" in client.get(url).content.decode()
    r = client.post(url, {"derived_from": str(c.upstream_offer.listing.version_id), "steps": ["filtered"]})
    assert r.status_code == 400 and "does not allow derivatives" in r.content.decode()


def test_offer_form_refuses_a_share_over_100_percent(make_firm, actor_for):
    from exchange.services.catalog import listing_create
    from tests.factories import make_dataset, passed_version

    seller = make_firm()
    actor = actor_for(seller)
    dataset = make_dataset(actor)
    listing = listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    client = client_for(seller)
    base = {"name": "Std", "price": "100.00", "access_mode": "instant", "term_days": 365, "download_limit": 5,
            "acceptance_days": 3, "fingerprint_gamma": 20, "derivatives_allowed": "on"}
    r = client.post(f"/sell/listings/{listing.pk}/offers/", {**base, "derivative_share_bp": 10001})
    assert "At most 100 %" in r.content.decode() and not Offer.objects.filter(listing=listing).exists()
    r = client.post(f"/sell/listings/{listing.pk}/offers/", {**base, "derivative_share_bp": 2500})
    assert r.status_code == 302
    offer = Offer.objects.get(listing=listing)
    assert (offer.derivatives_allowed, offer.derivative_share_bp) == (True, 2500)


def test_both_sales_pages_show_the_share(chain, actor_for):
    c = chain(share_bp=1250)
    _declare(actor_for(c.licensee), c.derived_offer, c.upstream_offer)
    sale = buy(actor_for(c.buyer), c.derived_offer)
    escrow.contract_settle(contract_id=sale.pk)
    down = client_for(c.licensee).get("/sell/sales/").content.decode()
    # 9999: commission ¥4.99, proceeds ¥95.00, share ¥11.87, payout ¥83.13
    assert "after ¥11.87 (1250 bp) to Upstream Labs" in down and "¥83.13" in down
    up = client_for(c.upstream_seller).get("/sell/sales/").content.decode()
    assert "Revenue shares received" in up and "¥11.87" in up and "Cleaner Co" in up
    # the table is in the page once, in its body (it once also sat inside the <title>)
    assert up.count('id="revenue-shares"') == 1
    assert up.split("<title>", 1)[1].split("</title>", 1)[0].startswith("Sales")
    assert "<section" not in up.split("<title>", 1)[1].split("</title>", 1)[0]
    buyer_page = client_for(c.buyer).get(f"/contracts/{sale.pk}/").content.decode()
    assert "¥11.87" not in buyer_page  # the buyer never sees the sellers' split
