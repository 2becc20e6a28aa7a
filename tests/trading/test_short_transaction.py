"""A purchase keeps its write transaction short: what does not depend on locked state (the
licence text, who hears about the purchase, a first refusal) is done before it starts.

SQLite, the embedded default, has one writer at a time, so work done inside the transaction
makes every other writer wait. These tests run without the test case's wrapping transaction
(``transaction=True``) so ``in_atomic_block`` says whether the service's own one is open.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from exchange.errors import Conflict
from exchange.models import AccessRequest, Contract, Notification, WebhookMessage
from exchange.services import audience as audience_module
from exchange.services import licence as licence_module
from exchange.services import trading as svc
from tests.trading.conftest import PURPOSE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def spies(monkeypatch):
    """Record, for each call, whether a transaction was open."""
    calls: dict[str, list[bool]] = {"licence": [], "audience": []}
    render, lookup = licence_module.licence_render, audience_module.audience_of

    def licence_spy(**kwargs):
        calls["licence"].append(connection.in_atomic_block)
        return render(**kwargs)

    def audience_spy(firms):
        calls["audience"].append(connection.in_atomic_block)
        return lookup(firms)

    monkeypatch.setattr(licence_module, "licence_render", licence_spy)
    monkeypatch.setattr(svc, "audience_of", audience_spy)
    return calls


def test_an_instant_purchase_renders_its_licence_and_finds_its_audience_before_the_transaction(
        make_firm, actor_for, make_offer, fund, spies):
    from exchange.models import WebhookEndpoint

    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    offer = make_offer(seller, price_fen=1500, access_mode="instant")
    fund(buyer, 5000)
    WebhookEndpoint.objects.create(organization=seller, url="https://hooks.example.com/s", secret="whsec_x" * 4,
                                   event_types=["access_request.created", "contract.paid"])

    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)

    assert spies == {"licence": [False], "audience": [False]}  # once each, no transaction open
    contract = Contract.objects.get(access_request=request)
    assert contract.status == "paid" and contract.licence_sha256
    assert f"Contract: {contract.pk}" in contract.licence_text  # the draft's id is the saved contract's
    # the prefetched audience reached the same recipients the in-transaction queries would have
    assert sorted(WebhookMessage.objects.values_list("event_type", flat=True)) == [
        "access_request.created", "contract.paid"]
    assert sorted(Notification.objects.values_list("event", "organization_id")) == sorted([
        ("access_request.created", seller.pk), ("access_request.approved", buyer.pk), ("contract.paid", seller.pk)])


def test_a_purchase_the_firm_may_not_make_is_refused_before_any_transaction(make_firm, actor_for, make_offer, fund,
                                                                            monkeypatch):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, price_fen=100, access_mode="instant")
    fund(buyer, 1000)
    svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)

    opened = []
    real_enter = transaction.Atomic.__enter__

    def counting_enter(self):
        opened.append(connection.in_atomic_block)
        return real_enter(self)

    monkeypatch.setattr(transaction.Atomic, "__enter__", counting_enter)
    with pytest.raises(Conflict) as refused:
        svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert refused.value.code == "already_licensed"
    assert opened == []  # refused from the first check: the write lock was never asked for
    assert AccessRequest.objects.filter(buyer=buyer).count() == 1


def test_a_seller_approval_still_drafts_the_contract_itself(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, price_fen=700, access_mode="approval")
    fund(buyer, 1000)
    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert not Contract.objects.filter(access_request=request).exists()

    svc.access_request_approve(actor=actor_for(seller), request=request)

    contract = Contract.objects.get(access_request=request)
    assert contract.status == "paid" and f"Contract: {contract.pk}" in contract.licence_text
    assert contract.purpose == " ".join(PURPOSE.split())
