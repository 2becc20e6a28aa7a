"""Cached public pages with a shared (Redis) cache: the generation is read from the cache with the page,
and publish, offer changes, retire and trades move it; the catalog body is shared, the header is not."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from exchange.models import Listing
from exchange.services import catalog
from exchange.services.catalog_flat import GENERATION_KEY, catalog_generation, generation_in_cache
from tests.trading.conftest import PURPOSE


@pytest.fixture
def redis_cache(settings):
    """The default cache on the real Redis (the production setup), under a key prefix of this test only."""
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/15",
                                   "KEY_PREFIX": f"test-catalog-{uuid.uuid4().hex}"}}
    assert generation_in_cache()
    yield cache
    cache.delete_many([GENERATION_KEY])


@pytest.fixture(params=["locmem", "redis"])
def either_cache(request, settings):
    """The embedded default (local memory, generation in the database row) and production (Redis)."""
    if request.param == "redis":
        return request.getfixturevalue("redis_cache")
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"test-catalog-{uuid.uuid4().hex}"}}
    assert not generation_in_cache()
    return cache


def _listing_of(offer) -> Listing:
    return Listing.objects.select_related("dataset__owner").get(pk=offer.listing_id)


PUBLIC = ["/", "/market/", "/api/v1/catalog/", "/api/v1/market/stats/", "/?q=listing&kind=cleaned",
          "/api/v1/catalog/?page=2&page_size=1"]


@pytest.mark.parametrize("url", PUBLIC)
def test_a_cached_public_page_needs_no_query_with_a_shared_cache(url, redis_cache, make_firm, make_offer,
                                                                 django_assert_num_queries,
                                                                 django_capture_on_commit_callbacks):
    seller = make_firm("Redis Seller")
    make_offer(seller, price_fen=1234)
    make_offer(seller, price_fen=2345)
    client = APIClient()
    first = client.get(url)

    with django_assert_num_queries(0):  # the generation and the page come from Redis in one round trip
        again = client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        added = make_offer(seller, price_fen=98765)
    after = client.get(url)

    assert first.status_code == again.status_code == after.status_code == 200
    assert again.content == first.content and after.content != first.content
    if url in ("/", "/api/v1/catalog/"):
        assert _listing_of(added).title.encode() in after.content
        assert _listing_of(added).title.encode() not in first.content


def test_publish_retire_and_trade_move_the_cached_generation(either_cache, make_firm, make_offer, fund, actor_for,
                                                             staff_actor, django_capture_on_commit_callbacks):
    from exchange.services import trading

    seller, buyer = make_firm("Gen Seller", username="gs"), make_firm("Gen Buyer", username="gb")
    offer = make_offer(seller, price_fen=5000, access_mode="instant")
    client = APIClient()
    listing = _listing_of(offer)

    def figures():
        catalog_page = client.get("/api/v1/catalog/").json()
        stats = client.get("/api/v1/market/stats/").json()
        return catalog_page["count"], [r["id"] for r in catalog_page["results"]], stats["trades"], stats["turnover_fen"]

    before = figures()
    assert before[:3] == (1, [str(listing.pk)], 0)
    generation = catalog_generation()

    # A trade: the market figures count it at once (the cached statistics are not served).
    fund(buyer, 1_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        trading.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    traded = figures()
    assert catalog_generation() > generation
    assert traded[2] == 1 and traded[3] == 5000 and traded[:2] == before[:2]

    # Retire: the listing leaves the cached list and its count.
    with django_capture_on_commit_callbacks(execute=True):
        catalog.listing_retire(actor=actor_for(seller), listing=listing)
    retired = figures()
    assert retired[:2] == (0, [])

    # Publish another: it appears.
    with django_capture_on_commit_callbacks(execute=True):
        fresh = make_offer(seller, price_fen=700)
    published = figures()
    assert published[:2] == (1, [str(fresh.listing_id)])


def test_a_flushed_cache_gets_a_new_generation_and_no_stale_page(redis_cache, make_firm, make_offer,
                                                                 django_capture_on_commit_callbacks):
    seller = make_firm("Flush Seller")
    make_offer(seller)
    client = APIClient()
    assert client.get("/api/v1/catalog/").json()["count"] == 1
    old = catalog_generation()
    # Rows changed under the services while the generation key is lost (eviction, FLUSHDB).
    Listing.objects.filter(status="published").update(status="draft")
    redis_cache.delete(GENERATION_KEY)

    assert client.get("/api/v1/catalog/").json()["count"] == 0
    assert catalog_generation() != old


def test_signed_in_visitors_share_the_catalog_body_but_not_the_header(redis_cache, make_firm, make_offer,
                                                                      django_assert_max_num_queries,
                                                                      django_capture_on_commit_callbacks):
    seller = make_firm("Body Seller 卖家", username="bodyseller")
    alpha, beta = make_firm("Alpha Buyer 甲", username="alpha"), make_firm("Beta Buyer 乙", username="beta")
    make_offer(seller, price_fen=4200)
    clients = {}
    for org in (alpha, beta):
        clients[org.name] = Client()
        clients[org.name].force_login(org.memberships.select_related("user").first().user)

    page_a = clients[alpha.name].get("/?q=listing").content.decode()
    with django_assert_max_num_queries(8):  # session, user, firm, notifications: the body is cached
        page_b = clients[beta.name].get("/?q=listing").content.decode()
    anonymous = Client().get("/?q=listing").content.decode()

    assert alpha.name in page_a and beta.name not in page_a
    assert beta.name in page_b and alpha.name not in page_b
    assert alpha.name not in anonymous and beta.name not in anonymous and "Log in" in anonymous
    body = page_a.split("<main", 1)[1].split("</main>", 1)[0]
    assert body in page_b and body in anonymous and "42.00" in body

    with django_capture_on_commit_callbacks(execute=True):
        added = make_offer(seller, price_fen=31400)
    after = clients[alpha.name].get("/?q=listing").content.decode()
    assert _listing_of(added).title in after and "314.00" in after
