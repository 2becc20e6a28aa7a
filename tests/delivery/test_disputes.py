"""Disputes: who may open one and when, the stopped clock, the seller's one response, staff
decisions (full, partial, reject) with a balanced ledger, and two decisions racing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import Account, AuditEvent, Contract, Dispute, LedgerTransfer
from exchange.services import escrow, ledger
from exchange.services.disputes import dispute_decide, dispute_open, dispute_respond
from exchange.services.trading import access_request_create
from tests.trading.test_race import run_concurrently

PRICE = 10000
TEXT = "Half of the rows are empty."


@pytest.fixture
def delivered(paid_contract, build_now):
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


def _open(contract, actor_for, kind="not_as_described"):
    return dispute_open(actor=actor_for(contract.buyer), contract_id=contract.pk, kind=kind, text=TEXT)


# --- Opening ----------------------------------------------------------------------------
def test_opening_stops_the_clock_and_holds_escrow(delivered, actor_for):
    contract = delivered()
    left = (contract.window_ends_at - timezone.now()).total_seconds()
    dispute = _open(contract, actor_for)
    contract.refresh_from_db()
    assert (dispute.status, contract.status) == ("open", "disputed")
    assert left - 5 <= contract.window_remaining_seconds <= left + 1
    # the release task skips it even long after the original end
    assert escrow.contracts_release_due(now=contract.window_ends_at + timedelta(days=30)) == 0
    with pytest.raises(Conflict) as exc:
        escrow.contract_accept(actor=actor_for(contract.buyer), contract_id=contract.pk)
    assert exc.value.code == "dispute_open"
    with pytest.raises(Conflict):
        escrow.contract_settle(contract_id=contract.pk)
    assert _balances(contract) == (PRICE, 0, PRICE, 0)
    assert AuditEvent.objects.filter(action="dispute.opened", object_id=str(dispute.pk)).count() == 1


def test_a_dispute_after_the_window_is_refused(delivered, actor_for):
    contract = delivered()
    Contract.objects.filter(pk=contract.pk).update(window_ends_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict) as exc:
        _open(contract, actor_for)
    assert exc.value.code == "window_closed"
    escrow.contracts_release_due()
    with pytest.raises(Conflict) as exc:  # and once released
        _open(contract, actor_for)
    assert exc.value.code == "window_closed"
    assert Dispute.objects.count() == 0


def test_a_second_open_dispute_is_refused(delivered, actor_for):
    contract = delivered()
    _open(contract, actor_for)
    with pytest.raises(Conflict) as exc:
        _open(contract, actor_for, kind="other")
    assert exc.value.code == "dispute_open"
    assert Dispute.objects.filter(contract=contract).count() == 1


def test_seller_is_refused_and_a_third_firm_sees_nothing(delivered, actor_for, make_firm):
    contract = delivered()
    with pytest.raises(Forbidden):
        dispute_open(actor=actor_for(contract.seller), contract_id=contract.pk, kind="other", text=TEXT)
    with pytest.raises(NotFound):
        dispute_open(actor=actor_for(make_firm("Third")), contract_id=contract.pk, kind="other", text=TEXT)
    with pytest.raises(NotFound):
        dispute_open(actor=actor_for(contract.buyer), contract_id="12", kind="other", text=TEXT)
    assert Dispute.objects.count() == 0


def test_unpaid_and_refunded_contracts_cannot_be_disputed(make_firm, actor_for, staff_actor, delivered):
    from tests.trading.conftest import PURPOSE, build_listing

    seller, buyer = make_firm(), make_firm()
    offer = build_listing(seller, price_fen=500, acceptance_days=3)
    request = access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)  # no funds: unpaid
    unpaid = request.contract
    assert unpaid.status == "awaiting_payment"
    with pytest.raises(Conflict) as exc:
        dispute_open(actor=actor_for(buyer), contract_id=unpaid.pk, kind="other", text=TEXT)
    assert "awaiting payment" in exc.value.message
    refunded = delivered()
    escrow.contract_refund(contract_id=refunded.pk, reason="Staff decision", actor=staff_actor)
    with pytest.raises(Conflict) as exc:
        _open(refunded, actor_for)
    assert "refunded" in exc.value.message
    assert Dispute.objects.count() == 0


@pytest.mark.parametrize(("kind", "text", "field"), [
    ("broken_heart", TEXT, "kind"), ("other", "   ", "text"), ("other", "x" * 5001, "text"),
    ("quality_below_guarantee", TEXT, "kind"),  # this contract carries no guarantee
])
def test_bad_dispute_input_names_the_field(delivered, actor_for, kind, text, field):
    contract = delivered()
    with pytest.raises(InvalidInput) as exc:
        dispute_open(actor=actor_for(contract.buyer), contract_id=contract.pk, kind=kind, text=text)
    assert field in exc.value.fields
    contract.refresh_from_db()
    assert contract.status == "delivered" and Dispute.objects.count() == 0


# --- The seller's response ---------------------------------------------------------------
def test_the_seller_responds_once(delivered, actor_for):
    contract = delivered()
    dispute = _open(contract, actor_for)
    with pytest.raises(Forbidden):
        dispute_respond(actor=actor_for(contract.buyer), dispute_id=dispute.pk, text="I agree with myself.")
    dispute_respond(actor=actor_for(contract.seller), dispute_id=dispute.pk, text="The empty rows are documented.")
    with pytest.raises(Conflict) as exc:
        dispute_respond(actor=actor_for(contract.seller), dispute_id=dispute.pk, text="And another thing.")
    assert exc.value.code == "already_responded"
    dispute.refresh_from_db()
    assert dispute.seller_response == "The empty rows are documented."


# --- Staff decisions ----------------------------------------------------------------------
def test_full_refund_returns_the_price_and_revokes_downloads(delivered, actor_for, staff_actor):
    contract = delivered()
    dispute = _open(contract, actor_for)
    dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="refund", reason="Data does not match listing.")
    contract.refresh_from_db()
    dispute.refresh_from_db()
    assert (dispute.status, dispute.refund_fen, contract.status, contract.refunded_fen) == (
        "refunded", PRICE, "refunded", PRICE)
    assert contract.delivery.status == "revoked"
    assert _balances(contract) == (2 * PRICE, 0, 0, 0)
    assert ledger.ledger_verify() is None
    assert AuditEvent.objects.filter(action="dispute.decided", object_id=str(dispute.pk)).count() == 1
    with pytest.raises(Conflict) as exc:
        dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="reject", reason="Changed my mind.")
    assert exc.value.code == "already_decided"


def test_partial_refund_charges_commission_only_on_what_the_seller_keeps(delivered, actor_for, staff_actor):
    contract = delivered()
    dispute = _open(contract, actor_for)
    dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="partial_refund", refund_fen=2501,
                   reason="A quarter of the rows are unusable.")
    contract.refresh_from_db()
    # seller keeps 7499 fen; commission floor(7499 × 500 / 10000) = 374; seller gets 7125
    assert contract.status == "partially_refunded" and contract.refunded_fen == 2501
    assert _balances(contract) == (PRICE + 2501, 7125, 0, 374)
    transfer = LedgerTransfer.objects.get(contract=contract, kind="partial_refund")
    assert sorted(e.amount for e in transfer.entries.all()) == [-PRICE, 374, 2501, 7125]
    assert ledger.ledger_verify() is None
    assert contract.delivery.status == "ready"  # the buyer keeps the data it partly paid for


@pytest.mark.parametrize("refund", [0, PRICE + 1, 12.5, -1, "100", True, None])
def test_bad_partial_refunds_are_refused_and_nothing_moves(delivered, actor_for, staff_actor, refund):
    contract = delivered()
    dispute = _open(contract, actor_for)
    with pytest.raises(InvalidInput) as exc:
        dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="partial_refund", refund_fen=refund,
                       reason="Some rows are bad.")
    assert "refund_fen" in exc.value.fields
    dispute.refresh_from_db()
    assert dispute.status == "open" and _balances(contract) == (PRICE, 0, PRICE, 0)
    assert not LedgerTransfer.objects.filter(contract=contract).exclude(kind="payment").exists()


def test_a_partial_refund_of_the_whole_price_is_a_full_refund(delivered, actor_for, staff_actor):
    contract = delivered()
    dispute = _open(contract, actor_for)
    dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="partial_refund", refund_fen=PRICE, reason="All bad.")
    dispute.refresh_from_db()
    assert dispute.status == "refunded" and _balances(contract) == (2 * PRICE, 0, 0, 0)


def test_reject_resumes_the_window_with_the_time_that_was_left(delivered, actor_for, staff_actor):
    contract = delivered()
    dispute = _open(contract, actor_for)
    contract.refresh_from_db()
    left = contract.window_remaining_seconds
    dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="reject", reason="The listing says so.")
    contract.refresh_from_db()
    assert contract.status == "delivered" and contract.window_remaining_seconds is None
    resumed = (contract.window_ends_at - timezone.now()).total_seconds()
    assert left - 5 <= resumed <= left + 1
    assert _balances(contract) == (PRICE, 0, PRICE, 0)
    # the buyer may now accept (or open another dispute)
    escrow.contract_accept(actor=actor_for(contract.buyer), contract_id=contract.pk)
    assert _balances(contract) == (PRICE, 9500, 0, 500)


def test_only_staff_decide_and_need_a_reason_and_an_outcome(delivered, actor_for, staff_actor):
    contract = delivered()
    dispute = _open(contract, actor_for)
    with pytest.raises(Forbidden):
        dispute_decide(actor=actor_for(contract.buyer), dispute_id=dispute.pk, outcome="refund", reason="Mine.")
    with pytest.raises(InvalidInput) as exc:
        dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="refund", reason=" ")
    assert "reason" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="split", reason="Fair.")
    assert "outcome" in exc.value.fields
    dispute.refresh_from_db()
    assert dispute.status == "open"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_staff_decisions_racing_one_wins(delivered, actor_for, staff_actor):
    for _ in range(3):
        contract = delivered()
        dispute = _open(contract, actor_for)
        outcomes = run_concurrently([
            lambda d=dispute: dispute_decide(actor=staff_actor, dispute_id=d.pk, outcome="refund", reason="Refund it."),
            lambda d=dispute: dispute_decide(actor=staff_actor, dispute_id=d.pk, outcome="partial_refund",
                                             refund_fen=3000, reason="Split it."),
        ])
        errors = [o for o in outcomes if isinstance(o, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], Conflict) and errors[0].code == "already_decided", outcomes
        assert LedgerTransfer.objects.filter(contract=contract, kind__in=["refund", "partial_refund",
                                                                          "settlement"]).count() == 1
    assert ledger.ledger_verify() is None
