"""Trading admin: wallet top-up and contract refund go through services, are audited, and refuse bad input."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from exchange.models import AuditEvent, Contract, LedgerTransfer
from exchange.services import ledger
from exchange.services import trading as svc
from tests.trading.conftest import PURPOSE

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff_actor):
    client = Client()
    client.force_login(staff_actor.user)
    return client


def test_admin_pages_render(staff_client, make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 1000)
    contract = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=1000),
                                         purpose=PURPOSE).contract
    transfer = LedgerTransfer.objects.first()
    for url in ("/admin/exchange/account/", "/admin/exchange/contract/", "/admin/exchange/accessrequest/",
                "/admin/exchange/ledgertransfer/", "/admin/exchange/ledgerentry/",
                f"/admin/exchange/contract/{contract.pk}/change/", f"/admin/exchange/ledgertransfer/{transfer.pk}/change/"):
        assert staff_client.get(url).status_code == 200, url
    assert staff_client.get("/admin/exchange/ledgerentry/add/").status_code == 403


def test_admin_top_up_asks_for_amount_and_memo_then_credits(staff_client, make_firm):
    org = make_firm()
    wallet = ledger.wallet_of(org)
    post = {"action": "top_up", ACTION_CHECKBOX_NAME: [str(wallet.pk)]}

    form_page = staff_client.post("/admin/exchange/account/", post)
    assert form_page.status_code == 200 and b"Amount (yuan)" in form_page.content

    for bad in ("-5", "0", "10.555", "abc", "١٢", ""):
        r = staff_client.post("/admin/exchange/account/", {**post, "apply": "1", "amount": bad, "memo": "ref"})
        assert r.status_code == 200 and b"errorlist" in r.content
    assert LedgerTransfer.objects.count() == 0

    r = staff_client.post("/admin/exchange/account/", {**post, "apply": "1", "amount": "２５0.00", "memo": "ICBC 7781"})

    assert r.status_code == 302
    wallet.refresh_from_db()
    assert wallet.balance == 25000
    event = AuditEvent.objects.get(action="wallet.topped_up")
    assert (event.actor_type, event.details["amount_fen"], event.details["memo"]) == ("staff", 25000, "ICBC 7781")


def test_admin_refund_requires_reason_and_is_audited(staff_client, make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 1200)
    contract = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=1200),
                                         purpose=PURPOSE).contract
    post = {"action": "refund", ACTION_CHECKBOX_NAME: [str(contract.pk)]}

    r = staff_client.post("/admin/exchange/contract/", {**post, "apply": "1", "reason": ""})
    assert r.status_code == 200 and b"errorlist" in r.content
    assert Contract.objects.get().status == "paid"

    r = staff_client.post("/admin/exchange/contract/", {**post, "apply": "1", "reason": "Seller could not deliver"})

    assert r.status_code == 302
    assert Contract.objects.get().status == "refunded"
    assert ledger.wallet_of(buyer).balance == 1200
    assert AuditEvent.objects.get(action="contract.refunded").details["reason"] == "Seller could not deliver"
