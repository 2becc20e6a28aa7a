"""Subscriptions on every face: the offer kind in the REST API (a documented enum, bad values refused),
the listing page and licence; each delivery of a contract with its version on the buyer's web pages
and in REST; the deliveries lists take a constant number of queries however many updates there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from exchange.models import Delivery
from tests.revisions.test_revisions import v2_bytes
from tests.subscriptions.conftest import owner

pytestmark = pytest.mark.django_db


def _v(n: int) -> bytes:
    """Version n of the reviews (same schema as v1): v2's edits plus n-2 extra rows."""
    extra = "".join(f"{100 + i},added in v{n} {i},pos\n" for i in range(n - 2))
    return v2_bytes() + extra.encode()


def _buyer_client(org):
    client = APIClient()
    client.force_login(owner(org))
    return client


def test_offer_kind_through_the_api(paid_contract, actor_for):
    from exchange.services.orgs import api_key_create

    contract = paid_contract()
    _, secret = api_key_create(actor=actor_for(contract.seller), name="t", scopes=["read", "sell"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    url = f"/api/v1/listings/{contract.listing_id}/offers/"
    made = client.post(url, {"name": "Updates", "price_fen": 2000, "kind": "subscription", "term_days": 90},
                       format="json")
    assert made.status_code == 201, made.content
    assert made.json()["kind"] == "subscription" and made.json()["term_days"] == 90
    bad = client.post(url, {"name": "x", "price_fen": 2000, "kind": "forever"}, format="json")
    assert bad.status_code == 400
    assert "subscription" in bad.json()["error"]["fields"]["kind"][0]
    kinds = sorted(o["kind"] for o in client.get(url).json())
    assert kinds == ["one_off", "subscription"]
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["schemas"]["OfferKindEnum"]["enum"] == ["one_off", "subscription"]


def test_listing_page_and_licence_say_it_is_a_subscription(subscription, client):
    sub = subscription()
    page = client.get(f"/listings/{sub.listing_id}/").content.decode()
    assert "Subscription" in page and "every new version the seller publishes in that time" in page
    assert "Subscription. The term runs 365 days from payment" in sub.licence_text


def test_buyer_sees_each_delivery_with_its_version(subscription, publish_v2, build_now):
    sub = subscription()
    publish_v2(sub.listing)
    update = Delivery.objects.get(contract=sub, initial=False)
    build_now(update)
    client = _buyer_client(sub.buyer)
    rows = client.get("/api/v1/deliveries/").json()["results"]
    assert sorted((r["version"], r["initial"], r["diff_from_version"]) for r in rows) == [(1, True, None),
                                                                                         (2, False, 1)]
    contract = client.get(f"/api/v1/contracts/{sub.pk}/").json()
    assert contract["offer_kind"] == "subscription" and contract["subscription_ends_at"]
    assert [(d["version"], d["initial"], d["status"]) for d in contract["deliveries"]] == [(1, True, "ready"),
                                                                                          (2, False, "ready")]
    listing_page = client.get("/deliveries/").content.decode()
    assert "v2" in listing_page and "from v1" in listing_page
    detail = client.get(f"/deliveries/{update.pk}/").content.decode()
    assert "metadata/diff.json" in detail and f"/deliveries/{sub.delivery.pk}/" in detail
    assert f"/deliveries/{update.pk}/" in client.get(f"/contracts/{sub.pk}/").content.decode()
    # the download rule is per delivery: the update has its own count
    link = client.post(f"/api/v1/deliveries/{update.pk}/links/")
    assert link.status_code == 201
    assert Delivery.objects.get(pk=sub.delivery.pk).downloads_used == 0


def test_another_firm_cannot_see_an_update_delivery(subscription, publish_v2, make_firm):
    sub = subscription()
    publish_v2(sub.listing)
    update = Delivery.objects.get(contract=sub, initial=False)
    stranger = _buyer_client(make_firm("Stranger Co"))
    assert stranger.get(f"/api/v1/deliveries/{update.pk}/").status_code == 404
    assert stranger.get(f"/deliveries/{update.pk}/").status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_deliveries_lists_take_constant_queries(subscription, publish_v2):
    sub = subscription()
    client = _buyer_client(sub.buyer)
    publish_v2(sub.listing, _v(2))
    urls = ["/api/v1/deliveries/", "/api/v1/contracts/", "/deliveries/", "/buy/contracts/", f"/contracts/{sub.pk}/"]
    before = {u: _queries(client, u) for u in urls}
    publish_v2(sub.listing, _v(3), changelog="More rows")
    publish_v2(sub.listing, _v(4), changelog="Even more rows")
    assert Delivery.objects.filter(contract=sub).count() == 4
    after = {u: _queries(client, u) for u in urls}
    assert after == before
