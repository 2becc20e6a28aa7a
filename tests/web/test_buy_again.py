"""One rule for buying the same offer again (exchange/selectors/purchase.py), seen by every face:
the service, the REST API and the listing page's purchase box agree."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from exchange.errors import Conflict
from exchange.models import Account, Contract, Delivery, LedgerTransfer
from exchange.services import escrow
from exchange.services import trading as trading_svc
from exchange.services.orgs import api_key_create
from tests.trading.conftest import PURPOSE, build_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def bought(buyer, seller, staff_actor, actor_for):
    """The buyer has paid for an instant offer once; its delivery is queued."""
    offer = build_listing(seller, price_fen=880_000, access_mode="instant")
    trading_svc.wallet_topup(actor=staff_actor, organization=buyer, amount_fen=2_000_000, memo="bank transfer 2026-7")
    request = trading_svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert request.contract.status == "paid"
    return offer


def _wallet(org) -> int:
    return Account.objects.get(kind=Account.Kind.WALLET, organization=org).balance


def _licence(offer, **fields):
    """Set the licence's delivery; a package that expires at ``expires_at`` was issued a term before
    (the licence runs ``term_days`` from its package's issue: exchange/selectors/licence.py)."""
    contract = Contract.objects.get(offer=offer)
    if fields.get("expires_at") is not None:
        fields.setdefault("issued_at", fields["expires_at"] - timedelta(days=contract.term_days))
    Delivery.objects.filter(contract=contract).update(**fields)


def _box(client, offer) -> str:
    return client.get(reverse("web:listing", args=[offer.listing.pk])).content.decode()


def test_a_live_licence_blocks_a_second_purchase_in_the_service(bought, buyer, actor_for):
    before = (_wallet(buyer), LedgerTransfer.objects.count(), Contract.objects.count())
    with pytest.raises(Conflict) as caught:
        trading_svc.access_request_create(actor=actor_for(buyer), offer=bought, purpose=PURPOSE)
    assert caught.value.code == "already_licensed"
    assert (_wallet(buyer), LedgerTransfer.objects.count(), Contract.objects.count()) == before


def test_the_api_gives_the_same_answer(bought, buyer, actor_for):
    _, secret = api_key_create(actor=actor_for(buyer), name="buy", scopes=["read", "buy"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    response = api.post("/api/v1/access-requests/", {"offer": str(bought.pk), "purpose": PURPOSE}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "already_licensed"
    assert Contract.objects.filter(offer=bought).count() == 1


def test_the_purchase_box_offers_no_buy_form_while_the_licence_runs(bought, buyer_client):
    ends = timezone.now() + timedelta(days=30)
    _licence(bought, status="ready", package_name="p.zip", package_size=10, expires_at=ends)
    body = _box(buyer_client, bought)
    assert reverse("web:offer-buy", args=[bought.pk]) not in body
    assert f"holds a licence for this offer until {timezone.localtime(ends):%Y-%m-%d}" in body
    # and a POST anyway is refused with the same sentence, no money moved
    response = buyer_client.post(reverse("web:offer-buy", args=[bought.pk]), {"purpose": PURPOSE}, follow=True)
    assert "you can buy it again once that licence has ended" in response.content.decode()
    assert Contract.objects.filter(offer=bought).count() == 1


@pytest.mark.parametrize("ended", [
    {"status": "expired", "expires_at": None},
    {"status": "ready", "package_name": "p.zip", "package_size": 10},  # term over, expiry sweep not yet run
    {"status": "revoked"},
])
def test_after_the_licence_ended_both_faces_allow_buying_again(bought, buyer, buyer_client, actor_for, ended):
    fields = {"expires_at": timezone.now() - timedelta(minutes=1), **ended}
    _licence(bought, **fields)
    body = _box(buyer_client, bought)
    assert reverse("web:offer-buy", args=[bought.pk]) in body
    assert "Your licence for this offer has ended; you can buy it again below." in body

    response = buyer_client.post(reverse("web:offer-buy", args=[bought.pk]), {"purpose": PURPOSE})
    assert response.status_code == 302
    assert Contract.objects.filter(offer=bought, status="paid").count() == 2
    assert _wallet(buyer) == 2_000_000 - 2 * 880_000


def test_a_refunded_purchase_does_not_block(bought, buyer, staff_actor, actor_for):
    contract = Contract.objects.get(offer=bought)
    Delivery.objects.filter(contract=contract).update(status="failed")
    escrow.contract_refund(contract_id=contract.pk, reason="delivery failed", actor=staff_actor)
    again = trading_svc.access_request_create(actor=actor_for(buyer), offer=bought, purpose=PURPOSE)
    assert again.contract.status == "paid"


@pytest.mark.parametrize("status", ["delivered", "disputed", "partially_refunded"])
def test_a_licence_in_its_after_sales_states_still_blocks_a_second_purchase(bought, buyer, actor_for, status):
    # the acceptance window, an open dispute and a partial refund all leave the buyer holding the licence
    Contract.objects.filter(offer=bought).update(status=status)
    _licence(bought, expires_at=timezone.now() + timedelta(days=30))
    before = (_wallet(buyer), Contract.objects.count())
    with pytest.raises(Conflict) as caught:
        trading_svc.access_request_create(actor=actor_for(buyer), offer=bought, purpose=PURPOSE)
    assert caught.value.code == "already_licensed"
    assert (_wallet(buyer), Contract.objects.count()) == before
