"""Concurrent purchases on PostgreSQL: real threads, each with its own database connection.

50 purchases of 10 CNY race against a wallet holding 100 CNY: exactly ten are paid, the
wallet ends at zero, never goes below it, and the ledger balances.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Min

from exchange.errors import DomainError
from exchange.models import Contract, LedgerEntry
from exchange.services import ledger
from exchange.services import trading as svc
from tests.trading.conftest import PURPOSE

pytestmark = pytest.mark.services

THREADS = 50
PRICE_FEN = 10 * 100
FUNDS_FEN = 100 * 100


def run_concurrently(calls):
    """Run each callable in its own thread, released together; returns their outcomes in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=30)
            outcomes[i] = call()
        except DomainError as exc:
            outcomes[i] = exc
        except Exception as exc:  # noqa: BLE001 — reported by the test, not swallowed
            outcomes[i] = exc
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a purchase thread hung"
    return outcomes


def assert_wallet_never_negative(org):
    wallet = ledger.wallet_of(org)
    lowest = LedgerEntry.objects.filter(account=wallet).aggregate(m=Min("balance_after"))["m"]
    assert lowest == 0


def test_fifty_concurrent_instant_purchases_against_100_cny(transactional_db, make_firm, actor_for, make_offer, fund):
    assert connection.vendor == "postgresql"
    sellers = [make_firm(f"Seller {i}") for i in range(5)]
    buyer = make_firm("Buyer")
    offers = [make_offer(sellers[i % 5], price_fen=PRICE_FEN, access_mode="instant") for i in range(THREADS)]
    fund(buyer, FUNDS_FEN)
    buyer_actor = actor_for(buyer)

    outcomes = run_concurrently([lambda o=o: svc.access_request_create(actor=buyer_actor, offer=o, purpose=PURPOSE)
                                 for o in offers])

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    statuses = Counter(Contract.objects.filter(buyer=buyer).values_list("status", flat=True))
    assert statuses == {"paid": 10, "awaiting_payment": 40}
    assert ledger.wallet_of(buyer).balance == 0
    assert ledger.system_account("escrow").balance == FUNDS_FEN
    assert_wallet_never_negative(buyer)
    assert ledger.ledger_verify() is None
    call_command("verify_ledger")


def test_fifty_concurrent_payments_against_100_cny(transactional_db, make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    buyer_actor = actor_for(buyer)
    contracts = [svc.access_request_create(actor=buyer_actor, offer=make_offer(seller, price_fen=PRICE_FEN),
                                           purpose=PURPOSE).contract for _ in range(THREADS)]
    assert {c.status for c in contracts} == {"awaiting_payment"}
    fund(buyer, FUNDS_FEN)

    outcomes = run_concurrently([lambda c=c: svc.contract_pay(actor=buyer_actor, contract=c) for c in contracts])

    kinds = Counter(o.code if isinstance(o, DomainError) else type(o).__name__ for o in outcomes)
    assert kinds == {"Contract": 10, "insufficient_funds": 40}
    assert Contract.objects.filter(status="paid").count() == 10
    assert ledger.wallet_of(buyer).balance == 0
    assert_wallet_never_negative(buyer)
    assert ledger.ledger_verify() is None


def test_twenty_concurrent_payments_of_one_contract_pay_once(transactional_db, make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    buyer_actor = actor_for(buyer)
    contract = svc.access_request_create(actor=buyer_actor, offer=make_offer(seller, price_fen=PRICE_FEN),
                                         purpose=PURPOSE).contract
    fund(buyer, FUNDS_FEN)

    outcomes = run_concurrently([lambda: svc.contract_pay(actor=buyer_actor, contract=contract)] * 20)

    kinds = Counter(o.code if isinstance(o, DomainError) else type(o).__name__ for o in outcomes)
    assert kinds == {"Contract": 1, "already_paid": 19}
    assert ledger.wallet_of(buyer).balance == FUNDS_FEN - PRICE_FEN
    assert ledger.ledger_verify() is None


def test_ten_concurrent_retries_with_one_idempotency_key_make_one_purchase(transactional_db, make_firm, actor_for,
                                                                           make_offer, fund):
    from rest_framework.test import APIClient

    from exchange.models import AccessRequest
    from exchange.services.orgs import api_key_create

    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    offer = make_offer(seller, price_fen=PRICE_FEN)
    fund(buyer, FUNDS_FEN)
    _, secret = api_key_create(actor=actor_for(buyer), name="k", scopes=["buy"])

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        r = client.post("/api/v1/access-requests/", {"offer": str(offer.pk), "purpose": PURPOSE}, format="json",
                        HTTP_IDEMPOTENCY_KEY="retry-storm")
        return r.status_code, r.json()

    outcomes = run_concurrently([post] * 10)

    assert [status for status, _ in outcomes] == [201] * 10
    assert len({body["id"] for _, body in outcomes}) == 1
    assert AccessRequest.objects.count() == 1
    assert ledger.wallet_of(buyer).balance == FUNDS_FEN - PRICE_FEN


def test_fifty_concurrent_purchases_of_one_offer_leave_at_most_one_unpaid_contract(transactional_db, make_firm,
                                                                                   actor_for, make_offer, fund):
    """The same instant offer bought 50 times at once with money for 10: one licence at a time per
    offer (selectors.purchase), so exactly one is paid, none waits for payment, and every other racer
    is told it already has one (409: already licensed, or a purchase of it is in flight)."""
    assert connection.vendor == "postgresql"
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    offer = make_offer(seller, price_fen=PRICE_FEN, access_mode="instant")
    fund(buyer, FUNDS_FEN)
    buyer_actor = actor_for(buyer)

    outcomes = run_concurrently([lambda: svc.access_request_create(actor=buyer_actor, offer=offer, purpose=PURPOSE)]
                                * THREADS)

    unexpected = [o for o in outcomes if isinstance(o, Exception)
                  and not (isinstance(o, DomainError) and o.code in ("duplicate_request", "already_licensed")
                           and o.status == 409)]
    assert unexpected == []
    statuses = Counter(Contract.objects.filter(buyer=buyer, offer=offer).values_list("status", flat=True))
    assert statuses == {"paid": 1}
    assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 1
    assert ledger.wallet_of(buyer).balance == FUNDS_FEN - PRICE_FEN
    lowest = LedgerEntry.objects.filter(account=ledger.wallet_of(buyer)).aggregate(m=Min("balance_after"))["m"]
    assert lowest == FUNDS_FEN - PRICE_FEN  # one charge, never more
    assert ledger.ledger_verify() is None
