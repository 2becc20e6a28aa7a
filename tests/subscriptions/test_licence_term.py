"""One licence-term rule (``selectors.licence.licence_ends_at``): the package's expiry, "may not buy it
again" (``purchase_blocks``), "may derive from it" (``lineage.licence_is_current``) and "receives a
subscription's updates" (``active_subscriptions``) all end a licence at the same instant, on contracts
whose payment, package issue and delivery happened at different times.

- a one-off licence runs from its delivery: ``term_days`` after its package was issued (clause 3);
- a subscription runs from payment: ``term_days`` after ``paid_at`` (its own clause).
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from exchange.models import Contract
from exchange.selectors.licence import licence_ends_at
from exchange.selectors.purchase import purchase_blocks
from exchange.services.lineage import licence_is_current
from exchange.services.subscriptions import active_subscriptions, subscription_ends_at
from tests.factories import csv_bytes

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


def _paid_earlier(contract, by: timedelta) -> Contract:
    """The buyer paid ``by`` before the package is built (a queue, a slow build, retries)."""
    Contract.objects.filter(pk=contract.pk).update(paid_at=contract.paid_at - by)
    return Contract.objects.select_related("offer", "listing", "buyer").get(pk=contract.pk)


def _fresh(contract) -> Contract:
    return Contract.objects.select_related("offer", "listing").prefetch_related("deliveries").get(pk=contract.pk)


def _api_end(client, contract) -> str | None:
    client.force_login(contract.buyer.memberships.select_related("user").first().user)
    response = client.get(f"/api/v1/contracts/{contract.pk}/")
    assert response.status_code == 200, response.content
    return response.json()["licence_ends_at"]


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _blocked(contract, at) -> bool:
    block = purchase_blocks(buyer=contract.buyer, offers=[contract.offer_id], now=at).get(contract.offer_id)
    return block is not None and block.code == "already_licensed"


def test_a_subscription_ends_term_days_after_payment_for_every_caller(paid_contract, build_now, client):
    contract = _paid_earlier(paid_contract(content=csv_bytes(20), offer={"kind": "subscription"}, term_days=30),
                             timedelta(hours=5))
    build_now(contract.delivery)
    contract = _fresh(contract)
    initial = contract.delivery
    assert initial.status == "ready", initial.error
    assert initial.issued_at - contract.paid_at > timedelta(hours=4)  # paid, issued, delivered at different times
    end = (contract.paid_at + timedelta(days=30)).replace(microsecond=0)  # the manifest states whole seconds

    assert licence_ends_at(contract) == subscription_ends_at(contract) == end
    assert _api_end(client, contract) == _iso(end)
    assert initial.expires_at == end  # the package says when the licence ends
    assert initial.manifest["expires_at"] == end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    block = purchase_blocks(buyer=contract.buyer, offers=[contract.offer_id], now=end - SECOND)[contract.offer_id]
    assert (block.code, block.licence_ends_at) == ("already_licensed", end)
    assert not _blocked(contract, end + SECOND)
    assert licence_is_current(contract, now=end - SECOND) and not licence_is_current(contract, now=end + SECOND)
    assert [c.pk for c in active_subscriptions(contract.listing, now=end - SECOND)] == [contract.pk]
    assert active_subscriptions(contract.listing, now=end + SECOND) == []


def test_a_one_off_licence_ends_term_days_after_its_package_was_issued_for_every_caller(paid_contract, build_now,
                                                                                      client):
    contract = _paid_earlier(paid_contract(content=csv_bytes(20), term_days=7), timedelta(hours=5))
    build_now(contract.delivery)
    # the ready moment lags the package's issue (a build of a large file takes a while)
    Contract.objects.filter(pk=contract.pk).update(delivered_at=contract.delivery.issued_at + timedelta(hours=2))
    contract = _fresh(contract)
    initial = contract.delivery
    assert initial.status == "ready", initial.error
    end = initial.issued_at + timedelta(days=7)

    assert licence_ends_at(contract) == initial.expires_at == end
    assert _api_end(client, contract) == _iso(end)
    assert subscription_ends_at(contract) is None
    assert _blocked(contract, end - SECOND) and not _blocked(contract, end + SECOND)
    assert licence_is_current(contract, now=end - SECOND) and not licence_is_current(contract, now=end + SECOND)
    assert active_subscriptions(contract.listing, now=end - SECOND) == []  # a one-off receives no updates


def test_a_one_off_paid_but_not_delivered_has_not_started_its_term(paid_contract, client):
    contract = _fresh(paid_contract(content=csv_bytes(20), term_days=7))
    assert contract.delivery.status == "queued"
    assert licence_ends_at(contract) is None
    assert _api_end(client, contract) is None
    assert licence_is_current(contract, now=contract.paid_at + timedelta(days=3650))
    block = purchase_blocks(buyer=contract.buyer, offers=[contract.offer_id])[contract.offer_id]
    assert (block.code, block.licence_ends_at) == ("already_licensed", None)
