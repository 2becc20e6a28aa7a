"""The acceptance window: ``ready`` opens it; the buyer's acceptance or its end releases escrow
(minus commission); the money moves once, balanced, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import (
    Account,
    AuditEvent,
    Contract,
    LedgerTransfer,
    Notification,
    WebhookMessage,
)
from exchange.services import catalog, escrow, ledger
from exchange.services.disputes import dispute_open, windows_remind
from tests.factories import make_dataset, passed_version
from tests.trading.test_race import run_concurrently

PRICE = 10000  # 100.00 CNY; 5 % commission → 500 fen


@pytest.fixture
def delivered(paid_contract, build_now):
    """A contract whose delivery is ready, with a window of ``acceptance_days`` (default 3)."""
    def _make(**kwargs):
        kwargs.setdefault("acceptance_days", 3)
        contract = paid_contract(price_fen=PRICE, **kwargs)
        build_now(contract.delivery)
        contract.refresh_from_db()
        return contract
    return _make


def _balances(contract):
    return (ledger.wallet_of(contract.buyer).balance, ledger.wallet_of(contract.seller).balance,
            ledger.system_account(Account.Kind.ESCROW).balance, ledger.system_account(Account.Kind.REVENUE).balance)


def test_ready_opens_the_window_and_holds_escrow(delivered):
    before = timezone.now()
    contract = delivered()
    assert contract.status == "delivered"
    assert contract.delivery.status == "ready"
    assert before + timedelta(days=3) <= contract.window_ends_at <= timezone.now() + timedelta(days=3)
    assert _balances(contract) == (PRICE, 0, PRICE, 0)
    assert not LedgerTransfer.objects.filter(contract=contract, kind="settlement").exists()
    assert AuditEvent.objects.filter(action="contract.delivered", object_id=str(contract.pk)).count() == 1
    assert "The licensee has 3 days from delivery to accept it" in contract.licence_text
    # the buyer's members are told the delivery is ready
    assert Notification.objects.filter(organization=contract.buyer, event="delivery.ready").count() == 1


def test_buyer_accepts_releases_escrow_minus_commission_once(delivered, actor_for):
    contract = delivered()
    escrow.contract_accept(actor=actor_for(contract.buyer), contract_id=contract.pk)
    contract.refresh_from_db()
    assert (contract.status, contract.release) == ("settled", "accepted")
    assert contract.accepted_at is not None
    assert _balances(contract) == (PRICE, 9500, 0, 500)
    assert ledger.ledger_verify() is None
    assert [e.action for e in AuditEvent.objects.filter(object_id=str(contract.pk)).order_by("seq")][-2:] == [
        "contract.accepted", "contract.settled"]
    with pytest.raises(Conflict) as exc:
        escrow.contract_accept(actor=actor_for(contract.buyer), contract_id=contract.pk)
    assert exc.value.code == "not_acceptable"
    assert LedgerTransfer.objects.filter(contract=contract, kind="settlement").count() == 1
    assert Notification.objects.filter(organization=contract.seller, event="contract.accepted").count() == 1


def test_only_the_buyer_accepts(delivered, actor_for, make_firm):
    contract = delivered()
    with pytest.raises(Forbidden):
        escrow.contract_accept(actor=actor_for(contract.seller), contract_id=contract.pk)
    with pytest.raises(NotFound):
        escrow.contract_accept(actor=actor_for(make_firm("Third")), contract_id=contract.pk)
    with pytest.raises(NotFound):
        escrow.contract_accept(actor=actor_for(contract.buyer), contract_id="not-a-uuid")
    contract.refresh_from_db()
    assert contract.status == "delivered" and _balances(contract) == (PRICE, 0, PRICE, 0)


def test_a_paid_contract_not_yet_delivered_cannot_be_accepted(paid_contract, actor_for):
    contract = paid_contract(acceptance_days=3)
    with pytest.raises(Conflict) as exc:
        escrow.contract_accept(actor=actor_for(contract.buyer), contract_id=contract.pk)
    assert "paid (in escrow)" in exc.value.message


def test_release_task_releases_only_windows_that_ended(delivered):
    contract = delivered()
    assert escrow.contracts_release_due() == 0
    later = contract.window_ends_at + timedelta(seconds=1)
    assert escrow.contracts_release_due(now=later) == 1
    assert escrow.contracts_release_due(now=later) == 0  # idempotent
    contract.refresh_from_db()
    assert (contract.status, contract.release) == ("settled", "window_closed")
    assert _balances(contract) == (PRICE, 9500, 0, 500)
    assert ledger.ledger_verify() is None
    assert WebhookMessage.objects.count() == 0  # no endpoints: nothing queued, and nothing failed


def test_zero_days_releases_on_ready_as_before(delivered):
    contract = delivered(acceptance_days=0)
    assert (contract.status, contract.release) == ("settled", "no_window")
    assert "no acceptance period" in contract.licence_text


@pytest.mark.parametrize("days", [-1, 31, "3", 2.5, True])
def test_acceptance_days_out_of_range_is_refused(make_firm, actor_for, days):
    seller = make_firm()
    actor = actor_for(seller)
    dataset = make_dataset(actor)
    listing = catalog.listing_create(actor=actor, dataset=dataset, version=passed_version(actor, dataset))
    with pytest.raises(InvalidInput) as exc:
        catalog.offer_create(actor=actor, listing=listing, name="Std", price_fen=100, acceptance_days=days)
    assert exc.value.fields["acceptance_days"] == ["A whole number from 0 to 30."]
    assert not listing.offers.exists()


def test_buyer_is_reminded_once_a_day_before_the_window_closes(delivered):
    contract = delivered(acceptance_days=1)
    assert windows_remind(now=contract.window_ends_at - timedelta(hours=30)) == 0
    assert windows_remind(now=contract.window_ends_at - timedelta(hours=5)) == 1
    assert windows_remind(now=contract.window_ends_at - timedelta(hours=4)) == 0
    assert Notification.objects.filter(organization=contract.buyer, event="contract.window_closing").count() == \
        contract.buyer.memberships.count()


# --- Races (PostgreSQL, threads) ---------------------------------------------------------
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_accept_and_dispute_racing_exactly_one_wins(delivered, actor_for):
    for _ in range(3):
        contract = delivered()
        buyer = actor_for(contract.buyer)
        outcomes = run_concurrently([
            lambda b=buyer, c=contract: escrow.contract_accept(actor=b, contract_id=c.pk),
            lambda b=buyer, c=contract: dispute_open(actor=b, contract_id=c.pk, kind="other",
                                                     text="The file is not what we need."),
        ])
        won = [o for o in outcomes if not isinstance(o, Exception)]
        lost = [o for o in outcomes if isinstance(o, Exception)]
        assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], Conflict), outcomes
        contract.refresh_from_db()
        settled = LedgerTransfer.objects.filter(contract=contract, kind="settlement").count()
        assert (contract.status, settled) in (("settled", 1), ("disputed", 0))
        assert contract.disputes.count() == (1 if contract.status == "disputed" else 0)
    assert ledger.ledger_verify() is None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_dispute_racing_the_release_task_never_both(delivered, actor_for):
    for _ in range(3):
        contract = delivered()
        # The window is about to end: the dispute comes in just before, the task runs just after.
        Contract.objects.filter(pk=contract.pk).update(window_ends_at=timezone.now() + timedelta(seconds=2))
        contract.refresh_from_db()
        buyer = actor_for(contract.buyer)
        after_end = contract.window_ends_at + timedelta(seconds=1)
        outcomes = run_concurrently([
            lambda t=after_end: escrow.contracts_release_due(now=t),
            lambda b=buyer, c=contract: dispute_open(actor=b, contract_id=c.pk, kind="other", text="Rows are missing here."),
        ])
        assert not any(isinstance(o, Exception) and not isinstance(o, Conflict) for o in outcomes), outcomes
        contract.refresh_from_db()
        settled = LedgerTransfer.objects.filter(contract=contract, kind="settlement").count()
        if contract.status == "disputed":
            assert outcomes[0] == 0 and settled == 0 and contract.disputes.filter(status="open").count() == 1
        else:
            assert contract.status == "settled" and settled == 1 and outcomes[0] == 1
            assert isinstance(outcomes[1], Conflict) and not contract.disputes.exists()
    assert ledger.ledger_verify() is None
