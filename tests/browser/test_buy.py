"""The demo buyer buys an instant offer in a real browser and sees the contract on "My contracts"."""

from __future__ import annotations

import os
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from exchange.actor import Actor
from exchange.models import Account, Contract, Offer, Organization
from exchange.services import trading as trading_svc

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "shujiao-demo-2026"
TOPUP_FEN = 1_000_000  # ¥10,000.00
PURPOSE = "Training an in-car voice assistant's intent classifier for our customers."


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    buyer = Organization.objects.get(memberships__user__username="buyer")
    staff = get_user_model().objects.get(username="admin")
    trading_svc.wallet_topup(actor=Actor(type="staff", user=staff), organization=buyer, amount_fen=TOPUP_FEN,
                             memo="Demo bank transfer for the browser test")
    offer = Offer.objects.select_related("listing").get(
        access_mode=Offer.AccessMode.INSTANT, is_active=True, listing__dataset__owner__memberships__user__username="hefei")
    return buyer, offer


def wallet_balance(org) -> int:
    return Account.objects.get(kind=Account.Kind.WALLET, organization=org).balance


def test_demo_buyer_buys_an_instant_offer_and_sees_the_contract(page, live_server, demo, shots):
    buyer, offer = demo
    before = wallet_balance(buyer)
    listing_path = f"/listings/{offer.listing.pk}/"

    page.goto(f"{live_server.url}/login/?next={listing_path}")
    page.fill("input[name=username]", "buyer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(re.escape(listing_path) + "$"))

    box = page.locator(f"#offer-{offer.pk}")
    button = box.locator("button[type=submit]")
    assert button.inner_text() == "Buy now · ¥8,800.00"
    assert page.locator(".purchase-box .wallet-line .price").inner_text() == f"¥{before // 100:,}.{before % 100:02d}"
    shots(page, "trading-listing-buy")

    box.locator("textarea[name=purpose]").fill(PURPOSE)
    button.click()
    page.wait_for_url(re.compile(r"/buy/contracts/$"))

    contract = Contract.objects.get(buyer=buyer, offer=offer)
    assert contract.status == Contract.Status.PAID
    assert wallet_balance(buyer) == before - 880_000
    assert page.locator(".msg-success").inner_text() == (
        f"Bought “{offer.listing.title}”: ¥8,800.00 is held in escrow until you accept the delivery (at the latest "
        "3 days after it is ready, unless you report a problem).")
    row = page.locator(f"tr[data-contract='{contract.pk}']")
    assert offer.listing.title in row.inner_text()
    assert "¥8,800.00" in row.inner_text()
    assert row.locator(".badge").first.inner_text() == "Paid (in escrow)"
    shots(page, "trading-my-contracts")

    page.click("nav.subnav >> text=Wallet")
    assert "-¥8,800.00" in page.locator("table.ledger-table tbody tr").first.inner_text()
