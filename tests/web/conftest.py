"""Web fixtures: a verified seller with a published listing, a buyer, and signed-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories


@pytest.fixture
def seller(make_firm):
    return make_firm("合肥语音科技有限公司 Hefei Speech", username="seller")


@pytest.fixture
def buyer(make_firm):
    return make_firm("Buyer Analytics", username="buyer")


@pytest.fixture
def seller_actor(seller, actor_for):
    return actor_for(seller)


def client_for(org) -> Client:
    client = Client()
    client.force_login(org.memberships.select_related("user").first().user)
    return client


@pytest.fixture
def seller_client(seller):
    return client_for(seller)


@pytest.fixture
def buyer_client(buyer):
    return client_for(buyer)


@pytest.fixture
def published(seller_actor, staff_actor):
    """A published listing of the seller's labelled dataset with one ¥10.00 offer."""
    return factories.published_listing(seller_actor, staff_actor, price_fen=1000)
