"""Property test: random top-ups, purchases, payments, settlements and refunds keep every
balance non-negative, equal to a simple model, and the ledger summing to zero."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from exchange.actor import Actor
from exchange.errors import Conflict
from exchange.models import Account, Contract, Delivery
from exchange.services import escrow, ledger
from exchange.services import trading as svc
from tests.trading.conftest import PURPOSE, build_listing

pytestmark = pytest.mark.django_db

PRICES = [1, 333, 1000, 2599]


class TradingMachine(RuleBasedStateMachine):
    make_firm = None  # set by the test
    staff = None

    def __init__(self):
        super().__init__()
        self.seller = self.make_firm()
        self.buyers = [self.make_firm(), self.make_firm()]
        self.offers = [build_listing(self.seller, price_fen=p, access_mode="instant") for p in PRICES]
        self.escrow0 = ledger.system_account(Account.Kind.ESCROW).balance
        self.revenue0 = ledger.system_account(Account.Kind.REVENUE).balance
        self.wallet = {org.pk: 0 for org in [self.seller, *self.buyers]}
        self.escrow = 0
        self.revenue = 0
        self.awaiting: list[Contract] = []
        self.paid: list[Contract] = []
        self.licensed: list[Contract] = []  # settled, licence still running

    def actor(self, org):
        user = org.memberships.select_related("user").first().user
        return Actor(type="user", user=user, organization=org)

    @rule(buyer=st.integers(0, 1), amount=st.integers(1, 5000))
    def topup(self, buyer, amount):
        org = self.buyers[buyer]
        svc.wallet_topup(actor=self.staff, organization=org, amount_fen=amount, memo="property test")
        self.wallet[org.pk] += amount

    @rule(buyer=st.integers(0, 1), offer=st.integers(0, len(PRICES) - 1))
    def purchase(self, buyer, offer):
        org, offer = self.buyers[buyer], self.offers[offer]
        # One purchase rule (selectors/purchase.py): unpaid, paid or licensed blocks a new purchase.
        if any(c.buyer_id == org.pk and c.offer_id == offer.pk for c in (*self.awaiting, *self.paid, *self.licensed)):
            with pytest.raises(Conflict):
                svc.access_request_create(actor=self.actor(org), offer=offer, purpose=PURPOSE)
            return
        contract = svc.access_request_create(actor=self.actor(org), offer=offer, purpose=PURPOSE).contract
        if self.wallet[org.pk] >= offer.price_fen:
            assert contract.status == "paid"
            self.wallet[org.pk] -= offer.price_fen
            self.escrow += offer.price_fen
            self.paid.append(contract)
        else:
            assert contract.status == "awaiting_payment"
            self.awaiting.append(contract)

    @precondition(lambda self: self.awaiting)
    @rule(index=st.integers(0, 100))
    def pay(self, index):
        contract = self.awaiting[index % len(self.awaiting)]
        buyer = contract.buyer
        if self.wallet[buyer.pk] < contract.price_fen:
            with pytest.raises(Conflict):
                svc.contract_pay(actor=self.actor(buyer), contract=contract)
            return
        svc.contract_pay(actor=self.actor(buyer), contract=contract)
        self.awaiting.remove(contract)
        self.paid.append(contract)
        self.wallet[buyer.pk] -= contract.price_fen
        self.escrow += contract.price_fen

    @precondition(lambda self: self.paid)
    @rule(index=st.integers(0, 100))
    def settle(self, index):
        contract = self.paid.pop(index % len(self.paid))
        escrow.contract_settle(contract_id=contract.pk)
        commission = contract.price_fen * contract.commission_bp // 10000
        self.wallet[self.seller.pk] += contract.price_fen - commission
        self.revenue += commission
        self.escrow -= contract.price_fen
        self.licensed.append(contract)
        with pytest.raises(Conflict):
            escrow.contract_refund(contract_id=contract.pk, reason="too late", actor=self.staff)

    @precondition(lambda self: self.licensed)
    @rule(index=st.integers(0, 100))
    def licence_ends(self, index):
        """The licence term is over (what the expiry sweep records): the offer may be bought again."""
        contract = self.licensed.pop(index % len(self.licensed))
        Delivery.objects.filter(contract=contract).update(status="expired")

    @precondition(lambda self: self.paid)
    @rule(index=st.integers(0, 100))
    def refund(self, index):
        contract = self.paid.pop(index % len(self.paid))
        escrow.contract_refund(contract_id=contract.pk, reason="delivery failed", actor=self.staff)
        self.wallet[contract.buyer_id] += contract.price_fen
        self.escrow -= contract.price_fen
        with pytest.raises(Conflict):
            escrow.contract_settle(contract_id=contract.pk)

    @invariant()
    def balances_match_the_model_and_are_non_negative(self):
        for org_pk, expected in self.wallet.items():
            account = Account.objects.filter(kind="wallet", organization_id=org_pk).first()
            actual = account.balance if account else 0
            assert actual == expected >= 0
        assert ledger.system_account(Account.Kind.ESCROW).balance - self.escrow0 == self.escrow >= 0
        assert ledger.system_account(Account.Kind.REVENUE).balance - self.revenue0 == self.revenue >= 0

    @invariant()
    def ledger_sums_to_zero(self):
        assert Account.objects.aggregate(t=Sum("balance"))["t"] in (0, None)


def test_random_trading_keeps_the_ledger_sound(make_firm, staff_actor):
    TradingMachine.make_firm = staticmethod(make_firm)
    TradingMachine.staff = staff_actor
    run_state_machine_as_test(TradingMachine, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
    # The full check (every transfer, every entry's running balance) once over all examples.
    assert ledger.ledger_verify() is None
