"""Contract lists show every delivery of a contract: "My contracts" (buyer) and the sales page
(seller) list a subscription's update deliveries beside the initial one — version, status and a
link to each delivery's page — with a number of queries that does not grow with the rows."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange.models import Contract, DatasetVersion, Delivery
from tests.trading.conftest import PURPOSE, build_listing, fund  # noqa: F401,F811 — fund is a fixture
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

PAGES = ("/buy/contracts/", "/sell/sales/")


def _subscriber(seller, buyer, actor_for, *, updates: int) -> Contract:
    """A paid subscription (initial delivery of v1) with ``updates`` update deliveries of v2, v3, …"""
    from exchange.services.trading import access_request_create

    offer = build_listing(seller, price_fen=500, kind="subscription")
    request = access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    contract = Contract.objects.select_related("dataset_version__dataset").get(access_request=request)
    previous = contract.dataset_version
    for number in range(2, updates + 2):
        version = DatasetVersion.objects.create(
            dataset=previous.dataset, number=number, file=f"datasets/test/{previous.pk}-{number}.csv",
            original_filename=f"v{number}.csv", format="csv", byte_size=100, status="passed",
            sha256=hashlib.sha256(f"{previous.pk} {number}".encode()).hexdigest(), row_count=10)
        Delivery.objects.create(contract=contract, dataset_version=version, initial=False, diff_from=previous,
                                queued_at=timezone.now(), status="ready" if number % 2 else "queued",
                                package_name=f"deliveries/{number}.zip", package_size=10)
        previous = version
    return contract


def _cells(html: str) -> dict[str, list[str]]:
    """Contract id → the delivery ids its row links to, in page order."""
    rows = re.findall(r'<tr data-contract="([0-9a-f-]+)">(.*?)</tr>', html, re.S)
    return {cid: re.findall(r'href="/deliveries/([0-9a-f-]+)/"', body) for cid, body in rows}


def _expected(contract: Contract) -> list[str]:
    return [str(pk) for pk in contract.deliveries.order_by("dataset_version__number").values_list("pk", flat=True)]


@pytest.mark.parametrize("url", PAGES)
def test_a_subscribers_row_lists_every_delivery_with_version_status_and_link(url, make_firm, actor_for, fund):  # noqa: F811
    seller, buyer = make_firm("Seller Co", username="s"), make_firm("Buyer Co", username="b")
    fund(buyer, 100_000)
    contract = _subscriber(seller, buyer, actor_for, updates=2)
    client = client_for(buyer if url.startswith("/buy") else seller)

    html = client.get(url).content.decode()

    assert _cells(html)[str(contract.pk)] == _expected(contract)  # initial (v1), then v2, v3
    row = re.search(rf'<tr data-contract="{contract.pk}">(.*?)</tr>', html, re.S).group(1)
    lines = re.findall(r'<div class="delivery-line" data-delivery="[^"]+">(.*?)</div>', row, re.S)
    texts = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip() for line in lines]
    assert texts == ["v1 Queued", "v2 update 更新 from v1 Queued", "v3 update 更新 from v2 Ready"]
    for pk in _expected(contract):  # each link opens that delivery's page for this firm
        assert client.get(f"/deliveries/{pk}/").status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_contract_lists_with_update_deliveries_cost_the_same_queries_for_one_row_and_many(
        url, make_firm, actor_for, fund, django_assert_max_num_queries):  # noqa: F811
    seller, buyer = make_firm("Seller Co", username="s"), make_firm("Buyer Co", username="b")
    fund(buyer, 100_000)
    client = client_for(buyer if url.startswith("/buy") else seller)
    first = _subscriber(seller, buyer, actor_for, updates=1)
    with CaptureQueriesContext(connection) as one:
        assert _cells(client.get(url).content.decode()) == {str(first.pk): _expected(first)}

    more = [_subscriber(seller, buyer, actor_for, updates=n) for n in (3, 0, 4, 2, 5)]
    with django_assert_max_num_queries(len(one.captured_queries)):
        shown = _cells(client.get(url).content.decode())

    assert shown == {str(c.pk): _expected(c) for c in [first, *more]}
    assert sum(len(ids) for ids in shown.values()) == 2 + 4 + 1 + 5 + 3 + 6
