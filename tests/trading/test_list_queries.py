"""Every list page runs a number of SQL queries that does not grow with the items it shows.

Each page is measured with 3 items of everything (listings, offers, datasets, versions, requests,
contracts, ledger entries, deliveries) and then held to that count with 30
(``django_assert_max_num_queries``). The cache is cleared before each request, so cached counts,
facets and market figures are recomputed both times.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.trading.conftest import PURPOSE, build_listing

PAGES = [
    # (who asks, URL)
    ("anonymous", "/"),
    ("anonymous", "/?q=listing&kind=cleaned"),
    ("anonymous", "/?ordering=min_price_fen&page=2"),
    ("anonymous", "/market/"),
    ("seller", "/sell/datasets/"),
    ("seller", "/sell/listings/"),
    ("seller", "/sell/requests/"),
    ("seller", "/sell/sales/"),
    ("buyer", "/buy/requests/"),
    ("buyer", "/buy/contracts/"),
    ("buyer", "/firm/wallet/"),
    ("buyer", "/deliveries/"),
    ("seller", "/deliveries/"),
    ("anonymous", "/api/v1/catalog/"),
    ("anonymous", "/api/v1/catalog/?q=listing&ordering=-min_price_fen"),
    ("anonymous", "/api/v1/catalog/?page=2&page_size=5"),
    ("anonymous", "/api/v1/market/stats/"),
    ("anonymous", "/api/v1/offers/"),
    ("seller", "/api/v1/datasets/"),
    ("seller", "/api/v1/versions/"),
    ("seller", "/api/v1/listings/"),
    ("seller", "/api/v1/access-requests/?direction=incoming"),
    ("buyer", "/api/v1/access-requests/"),
    ("buyer", "/api/v1/contracts/"),
    ("seller", "/api/v1/contracts/?role=seller"),
    ("buyer", "/api/v1/wallet/entries/"),
    ("buyer", "/api/v1/deliveries/"),
    ("seller", "/notifications/"),
    ("buyer", "/notifications/"),
    ("seller", "/api/v1/notifications/"),
]


def _client(org) -> Client:
    client = Client()
    if org is not None:
        client.force_login(org.memberships.select_related("user").first().user)
    return client


def _populate(seller, buyer, actor_for, count: int) -> None:
    """``count`` instant purchases (request, contract, payment, delivery) and ``count`` pending requests."""
    from exchange.services import trading

    for i in range(count):
        instant = build_listing(seller, price_fen=100 + i, access_mode="instant")
        trading.access_request_create(actor=actor_for(buyer), offer=instant, purpose=PURPOSE)
        pending = build_listing(seller, price_fen=200 + i, access_mode="approval")
        trading.access_request_create(actor=actor_for(buyer), offer=pending, purpose=PURPOSE)


def _get(client, url):
    cache.clear()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    return response


@pytest.mark.parametrize(("who", "url"), PAGES, ids=[f"{w}:{u}" for w, u in PAGES])
def test_list_page_queries_do_not_grow_with_items(who, url, make_firm, actor_for, fund, django_assert_max_num_queries):
    seller, buyer = make_firm("Seller Co", username="s"), make_firm("Buyer Co", username="b")
    fund(buyer, 10_000_000)
    client = _client({"anonymous": None, "seller": seller, "buyer": buyer}[who])

    _populate(seller, buyer, actor_for, 3)
    with CaptureQueriesContext(connection) as few:
        small = _get(client, url)
    _populate(seller, buyer, actor_for, 27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = _get(client, url)

    assert len(large.content) > len(small.content), "the page with 30 items shows no more than with 3"
