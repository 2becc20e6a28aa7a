"""Trading services: every transition and refusal, with exact money and nothing written on failure."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import (
    AccessRequest,
    Account,
    AuditEvent,
    Contract,
    LedgerEntry,
    LedgerTransfer,
)
from exchange.services import escrow, ledger
from exchange.services import trading as svc
from tests.trading.conftest import PURPOSE

pytestmark = pytest.mark.django_db


def balance(org) -> int:
    return ledger.wallet_of(org).balance


def test_instant_offer_with_funds_is_approved_contracted_and_paid(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    offer = make_offer(seller, price_fen=1999, access_mode="instant")
    fund(buyer, 5000)

    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)

    request.refresh_from_db()
    contract = request.contract
    assert request.status == "approved"
    assert contract.status == "paid"
    assert contract.paid_at is not None
    assert (contract.price_fen, contract.currency, contract.commission_bp) == (1999, "CNY", 500)
    assert (contract.buyer, contract.seller, contract.dataset_version) == (buyer, seller, offer.listing.version)
    assert balance(buyer) == 3001
    assert ledger.system_account("escrow").balance == 1999
    assert contract.licence_sha256 == hashlib.sha256(contract.licence_text.encode()).hexdigest()
    actions = list(AuditEvent.objects.filter(action__startswith=("access_request")).values_list("action", flat=True))
    assert actions == ["access_request.created", "access_request.approved"]
    assert AuditEvent.objects.filter(action="contract.paid", object_id=str(contract.pk)).count() == 1
    assert ledger.ledger_verify() is None


def test_instant_offer_without_funds_leaves_contract_awaiting_payment(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, price_fen=1000, access_mode="instant")

    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)

    request.refresh_from_db()
    assert request.status == "approved"
    assert request.contract.status == "awaiting_payment"
    assert LedgerTransfer.objects.filter(kind="payment").count() == 0
    assert AuditEvent.objects.filter(action="contract.payment_deferred").count() == 1


def test_pay_later_after_topup_then_paying_twice_is_refused(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, price_fen=1000, access_mode="instant")
    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    contract = request.contract
    with pytest.raises(Conflict) as exc:
        svc.contract_pay(actor=actor_for(buyer), contract=contract)
    assert exc.value.code == "insufficient_funds"
    assert "short by ¥10.00" in exc.value.message
    fund(buyer, 1500)

    svc.contract_pay(actor=actor_for(buyer), contract=contract)
    with pytest.raises(Conflict) as exc:
        svc.contract_pay(actor=actor_for(buyer), contract=contract)

    assert exc.value.code == "already_paid"
    assert balance(buyer) == 500
    assert LedgerTransfer.objects.filter(kind="payment", contract=contract).count() == 1


def test_approval_offer_pending_then_seller_approves(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, price_fen=2500, access_mode="approval")
    fund(buyer, 2500)
    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert request.status == "pending"
    assert Contract.objects.count() == 0

    svc.access_request_approve(actor=actor_for(seller), request=request)

    request.refresh_from_db()
    assert request.status == "approved"
    assert request.contract.status == "paid"
    assert balance(buyer) == 0


def test_approving_twice_is_refused(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"),
                                        purpose=PURPOSE)
    svc.access_request_approve(actor=actor_for(seller), request=request)
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict, match="Only a pending request can be approved; this one is approved"):
        svc.access_request_approve(actor=actor_for(seller), request=request)

    assert Contract.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_reject_needs_reason_and_rejected_cannot_be_paid_or_approved(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 10000)
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"),
                                        purpose=PURPOSE)
    with pytest.raises(InvalidInput):
        svc.access_request_reject(actor=actor_for(seller), request=request, reason="  ")

    svc.access_request_reject(actor=actor_for(seller), request=request, reason="Purpose outside our licence.")

    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("rejected", "Purpose outside our licence.")
    with pytest.raises(Conflict, match="this one is rejected"):
        svc.access_request_approve(actor=actor_for(seller), request=request)
    assert Contract.objects.count() == 0
    assert not hasattr(request, "contract") or Contract.objects.filter(access_request=request).count() == 0
    assert balance(buyer) == 10000


def test_paying_a_cancelled_contract_of_a_cancelled_request_is_refused(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller), purpose=PURPOSE)
    svc.access_request_cancel(actor=actor_for(buyer), request=request)
    contract = Contract.objects.get(access_request=request)
    assert contract.status == "cancelled"

    with pytest.raises(Conflict, match="cancelled and cannot be paid"):
        svc.contract_pay(actor=actor_for(buyer), contract=contract)
    assert LedgerTransfer.objects.filter(kind="payment").count() == 0


def test_approving_or_rejecting_another_firms_request_is_not_found(make_firm, actor_for, make_offer):
    seller, buyer, stranger = make_firm(), make_firm(), make_firm()
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"),
                                        purpose=PURPOSE)
    with pytest.raises(NotFound):
        svc.access_request_approve(actor=actor_for(stranger), request=request)
    with pytest.raises(NotFound):
        svc.access_request_reject(actor=actor_for(stranger), request=request, reason="No.")
    with pytest.raises(NotFound):  # the buyer cannot approve its own request either
        svc.access_request_approve(actor=actor_for(buyer), request=request)
    request.refresh_from_db()
    assert request.status == "pending"
    assert Contract.objects.count() == 0


def test_buying_own_dataset_is_refused(make_firm, actor_for, make_offer):
    seller = make_firm()
    with pytest.raises(Conflict, match="your own firm's dataset"):
        svc.access_request_create(actor=actor_for(seller), offer=make_offer(seller), purpose=PURPOSE)
    assert AccessRequest.objects.count() == 0


@pytest.mark.parametrize(("status", "error"), [("draft", NotFound), ("in_review", NotFound),
                                               ("suspended", Conflict), ("retired", Conflict)])
def test_requesting_an_unpublished_listing_is_refused(make_firm, actor_for, make_offer, status, error):
    seller, buyer = make_firm(), make_firm()
    with pytest.raises(error):
        svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, status=status), purpose=PURPOSE)
    assert AccessRequest.objects.count() == 0


def test_inactive_offer_is_refused(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    with pytest.raises(Conflict, match="no longer available"):
        svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, is_active=False), purpose=PURPOSE)
    assert AccessRequest.objects.count() == 0


def test_unverified_firm_cannot_buy(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm(verified=False)
    with pytest.raises(Forbidden, match="not verified"):
        svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller), purpose=PURPOSE)
    assert AccessRequest.objects.count() == 0


@pytest.mark.parametrize("purpose", ["", "   ", None, "AI", "for ML"])
def test_empty_or_too_short_purpose_is_refused(make_firm, actor_for, make_offer, purpose):
    seller, buyer = make_firm(), make_firm()
    with pytest.raises(InvalidInput) as exc:
        svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller), purpose=purpose)
    assert "purpose" in exc.value.fields
    assert AccessRequest.objects.count() == 0


def test_chinese_purpose_of_one_sentence_is_accepted(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"),
                                        purpose="用于训练客服意图识别模型")
    assert request.purpose == "用于训练客服意图识别模型"


def test_duplicate_pending_request_is_refused(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, access_mode="approval")
    svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    with pytest.raises(Conflict, match="already have a pending request"):
        svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert AccessRequest.objects.count() == 1


def test_scopes_buy_and_sell_are_required(make_firm, actor_for, make_offer, key_actor):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, access_mode="approval")
    with pytest.raises(Forbidden, match="'buy' scope"):
        svc.access_request_create(actor=key_actor(buyer, ["read", "sell"]), offer=offer, purpose=PURPOSE)
    assert AccessRequest.objects.count() == 0
    request = svc.access_request_create(actor=key_actor(buyer, ["buy"]), offer=offer, purpose=PURPOSE)
    with pytest.raises(Forbidden, match="'sell' scope"):
        svc.access_request_approve(actor=key_actor(seller, ["read", "buy"]), request=request)
    request.refresh_from_db()
    assert request.status == "pending"


def test_cancel_pending_request_and_cancel_twice(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"),
                                        purpose=PURPOSE)
    svc.access_request_cancel(actor=actor_for(buyer), request=request)
    request.refresh_from_db()
    assert request.status == "cancelled"
    with pytest.raises(Conflict, match="can no longer be cancelled"):
        svc.access_request_cancel(actor=actor_for(buyer), request=request)
    with pytest.raises(NotFound):  # the seller cannot cancel the buyer's request
        svc.access_request_cancel(actor=actor_for(seller), request=request)


def test_paid_request_cannot_be_cancelled(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 1000)
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=1000), purpose=PURPOSE)
    with pytest.raises(Conflict, match="its contract is paid"):
        svc.access_request_cancel(actor=actor_for(buyer), request=request)
    assert Contract.objects.get().status == "paid"


def test_expiry_moves_only_old_pending_requests(make_firm, actor_for, make_offer, settings):
    settings.ACCESS_REQUEST_EXPIRY_DAYS = 14
    seller, buyer = make_firm(), make_firm()
    old = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"), purpose=PURPOSE)
    new = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, access_mode="approval"), purpose=PURPOSE)
    AccessRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))

    assert svc.access_requests_expire() == 1
    assert svc.access_requests_expire() == 0

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("expired", "pending")
    assert AuditEvent.objects.filter(action="access_request.expired").count() == 1


def test_settlement_pays_seller_minus_floor_commission_once(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 1999)
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=1999), purpose=PURPOSE)

    escrow.contract_settle(contract_id=request.contract.pk)

    # 1999 × 500 / 10000 = 99.95 → 99 fen commission (rounded down); seller gets 1900.
    assert balance(seller) == 1900
    assert ledger.system_account("revenue").balance == 99
    assert ledger.system_account("escrow").balance == 0
    with pytest.raises(Conflict, match="already settled"):
        escrow.contract_settle(contract_id=request.contract.pk)
    with pytest.raises(Conflict, match="Only a paid contract held in escrow"):
        escrow.contract_refund(contract_id=request.contract.pk, reason="late")
    assert LedgerTransfer.objects.filter(kind="settlement").count() == 1
    assert LedgerTransfer.objects.filter(kind="refund").count() == 0
    assert ledger.ledger_verify() is None


@pytest.mark.parametrize(("price", "bp", "commission"), [(1, 500, 0), (20, 500, 1), (10000, 500, 500),
                                                         (19, 500, 0), (12345, 250, 308), (100, 0, 0), (100, 10000, 100)])
def test_commission_rounds_down(price, bp, commission):
    assert ledger.commission_fen(price_fen=price, basis_points=bp) == commission


def test_settling_unpaid_contract_is_refused(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller), purpose=PURPOSE)
    with pytest.raises(Conflict, match="Only a paid contract can be settled"):
        escrow.contract_settle(contract_id=request.contract.pk)
    assert LedgerTransfer.objects.filter(kind="settlement").count() == 0


def test_refund_returns_escrow_once_and_needs_staff_and_reason(make_firm, actor_for, make_offer, fund, staff_actor):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 3000)
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=3000), purpose=PURPOSE)
    contract_id = request.contract.pk
    with pytest.raises(Forbidden):
        escrow.contract_refund(contract_id=contract_id, reason="I want my money", actor=actor_for(buyer))
    with pytest.raises(InvalidInput):
        escrow.contract_refund(contract_id=contract_id, reason="", actor=staff_actor)
    assert balance(buyer) == 0

    escrow.contract_refund(contract_id=contract_id, reason="Delivery failed after retries", actor=staff_actor)

    assert balance(buyer) == 3000
    assert ledger.system_account("escrow").balance == 0
    with pytest.raises(Conflict, match="already refunded"):
        escrow.contract_refund(contract_id=contract_id, reason="again", actor=staff_actor)
    with pytest.raises(Conflict, match="Only a paid contract can be settled"):
        escrow.contract_settle(contract_id=contract_id)
    assert Contract.objects.get().refund_reason == "Delivery failed after retries"
    assert AuditEvent.objects.filter(action="contract.refunded", actor_type="staff").count() == 1


@pytest.mark.parametrize("amount", [-100, 0, 10.5, 100.0, "100", True, None, 10**12])
def test_topup_refuses_non_positive_or_non_integer_amounts(make_firm, staff_actor, amount):
    org = make_firm()
    with pytest.raises(InvalidInput) as exc:
        svc.wallet_topup(actor=staff_actor, organization=org, amount_fen=amount, memo="bank ref 1")
    assert "amount_fen" in exc.value.fields
    assert LedgerTransfer.objects.count() == 0
    assert LedgerEntry.objects.count() == 0


def test_topup_needs_staff_and_memo_and_is_audited(make_firm, actor_for, staff_actor):
    org = make_firm()
    with pytest.raises(Forbidden):
        svc.wallet_topup(actor=actor_for(org), organization=org, amount_fen=100, memo="self-service")
    with pytest.raises(InvalidInput):
        svc.wallet_topup(actor=staff_actor, organization=org, amount_fen=100, memo="")
    assert LedgerTransfer.objects.count() == 0

    svc.wallet_topup(actor=staff_actor, organization=org, amount_fen=10000, memo="ICBC ref 42")

    assert balance(org) == 10000
    assert ledger.system_account("external").balance == -10000
    event = AuditEvent.objects.get(action="wallet.topped_up")
    assert event.details["amount_fen"] == 10000
    assert event.actor_type == "staff"


def test_sandbox_topup_only_in_demo_mode(make_firm, actor_for, settings):
    org = make_firm()
    settings.DEMO_MODE = False
    with pytest.raises(Forbidden, match="demo mode"):
        svc.wallet_sandbox_topup(actor=actor_for(org), amount_fen=1000)
    assert LedgerTransfer.objects.count() == 0
    settings.DEMO_MODE = True
    svc.wallet_sandbox_topup(actor=actor_for(org), amount_fen=1000)
    assert balance(org) == 1000


def test_licence_is_deterministic_and_names_terms(make_firm, actor_for, make_offer):
    seller, buyer = make_firm("Hefei Speech Ltd"), make_firm("Nanjing AI Co")
    offer = make_offer(seller, price_fen=12345, term_days=90, download_limit=3, redistribution=False,
                       purpose_restriction="No biometric identification.")
    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    contract = request.contract
    text = contract.licence_text

    again = svc.licence_render(contract_id=str(contract.pk), seller=seller, buyer=buyer, listing=offer.listing, offer=offer,
                               version_number=1, version_sha256=offer.listing.version.sha256, purpose=PURPOSE)

    assert again == text
    for fragment in ("Hefei Speech Ltd", "Nanjing AI Co", seller.credit_code, buyer.credit_code, "Price: ¥123.45 (CNY)",
                     "runs for 90 days", "at most 3 times", "may not redistribute", "No biometric identification.", PURPOSE):
        assert fragment in text
    assert contract.licence_sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_contract_freezes_price_when_offer_changes(make_firm, actor_for, make_offer):
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, price_fen=1000)
    request = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    type(offer).objects.filter(pk=offer.pk).update(price_fen=5000)
    assert Contract.objects.get(access_request=request).price_fen == 1000


def test_overdraft_refused_by_database_constraint(make_firm):
    from django.db import IntegrityError, transaction

    org = make_firm()
    wallet = ledger.wallet_of(org)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(balance=-1)


def test_second_payment_transfer_for_a_contract_is_refused_by_database(make_firm, actor_for, make_offer, fund):
    from django.db import IntegrityError, transaction

    seller, buyer = make_firm(), make_firm()
    fund(buyer, 1000)
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=1000), purpose=PURPOSE)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransfer.objects.create(kind="payment", contract=request.contract)


def test_verify_ledger_command_passes_and_names_a_tampered_balance(make_firm, actor_for, make_offer, fund, capsys):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 5000)
    svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=1000), purpose=PURPOSE)
    call_command("verify_ledger")
    assert "Ledger balanced: 2 transfers" in capsys.readouterr().out

    wallet = ledger.wallet_of(buyer)
    Account.objects.filter(pk=wallet.pk).update(balance=4500)
    with pytest.raises(CommandError, match=f"account #{wallet.pk} .* caches a balance of 4500 fen but its entries sum to 4000 fen"):
        call_command("verify_ledger")


def test_verify_ledger_names_an_unbalanced_transfer(make_firm, fund):
    org = make_firm()
    record = fund(org, 700)
    LedgerEntry.objects.filter(transfer=record, amount=700).update(amount=600)
    with pytest.raises(CommandError, match=f"transfer {record.pk} \\(topup\\) does not sum to zero: its entries total -100 fen"):
        call_command("verify_ledger")


def test_contract_settle_default_actor_is_system(make_firm, actor_for, make_offer, fund):
    seller, buyer = make_firm(), make_firm()
    fund(buyer, 100)
    request = svc.access_request_create(actor=actor_for(buyer), offer=make_offer(seller, price_fen=100), purpose=PURPOSE)
    escrow.contract_settle(contract_id=request.contract.pk, actor=Actor.system("delivery"))
    assert AuditEvent.objects.get(action="contract.settled").actor_type == "system"
    assert balance(seller) == 95


def test_offer_states_for_listing_page(make_firm, actor_for, make_offer):
    from exchange.selectors.trading import offer_states_for

    seller, buyer = make_firm(), make_firm()
    bought, untouched = make_offer(seller, price_fen=100), make_offer(seller, price_fen=100)
    request = svc.access_request_create(actor=actor_for(buyer), offer=bought, purpose=PURPOSE)

    states = offer_states_for(organization=buyer, offers=[bought, untouched])

    assert list(states) == [bought.pk]
    assert states[bought.pk]["request"] == request
    assert states[bought.pk]["contract"].status == "awaiting_payment"
    assert offer_states_for(organization=None, offers=[bought]) == {}


def test_second_unpaid_contract_for_one_offer_is_refused_by_database_as_409(make_firm, actor_for, make_offer):
    """The partial unique index catches what the service checks miss (here a second pending request
    slipped in behind them): approving it answers duplicate_request and writes nothing."""
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, access_mode="approval")
    first = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    svc.access_request_approve(actor=actor_for(seller), request=first)
    assert Contract.objects.get().status == "awaiting_payment"
    second = AccessRequest.objects.create(buyer=buyer, seller=seller, offer=offer, listing=offer.listing, purpose=PURPOSE)
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict, match="already awaiting the buyer's payment") as caught:
        svc.access_request_approve(actor=actor_for(seller), request=second)

    assert caught.value.code == "duplicate_request"
    assert Contract.objects.count() == 1
    second.refresh_from_db()
    assert second.status == "pending"
    assert AuditEvent.objects.count() == events


def test_paid_contract_blocks_buying_the_offer_again_until_its_licence_ends(make_firm, actor_for, make_offer, fund):
    """The one purchase rule (selectors/purchase.py); the web and API faces are tested in tests/web/test_buy_again.py."""
    from exchange.models import Delivery

    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller, price_fen=1000)
    fund(buyer, 1000)
    first = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    with pytest.raises(Conflict) as caught:
        svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert caught.value.code == "already_licensed"
    Delivery.objects.filter(contract=first.contract).update(status="expired", expires_at=timezone.now())
    again = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert again.contract.status == "awaiting_payment"
    with pytest.raises(Conflict) as caught:
        svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE)
    assert caught.value.code == "duplicate_request"


def test_migration_0005_cancels_duplicate_unpaid_contracts_keeping_the_oldest(make_firm, actor_for, make_offer):
    """Rows left by the old race: the index is dropped for the test, duplicates made, the migration's
    data step run, and the index can be created again."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("exchange.migrations.0005_contract_one_unpaid_per_offer")
    seller, buyer = make_firm(), make_firm()
    offer = make_offer(seller)
    keep = svc.access_request_create(actor=actor_for(buyer), offer=offer, purpose=PURPOSE).contract
    with connection.cursor() as cursor:
        cursor.execute('DROP INDEX "contract_one_unpaid_per_offer"')
    duplicates = []
    for _ in range(2):
        request = AccessRequest.objects.create(buyer=buyer, seller=seller, offer=offer, listing=offer.listing,
                                               purpose=PURPOSE, status="approved")
        duplicates.append(Contract.objects.create(
            access_request=request, buyer=buyer, seller=seller, listing=offer.listing, offer=offer,
            dataset_version=keep.dataset_version, price_fen=keep.price_fen, commission_bp=keep.commission_bp,
            purpose=PURPOSE, term_days=30, download_limit=3, redistribution=False, licence_text="x",
            licence_sha256="0" * 64))

    migration.cancel_duplicate_unpaid(apps, None)

    with connection.cursor() as cursor:  # the index the migration adds next can be built
        if connection.vendor == "postgresql":  # deferred FK checks must run before an index is built
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute('CREATE UNIQUE INDEX "contract_one_unpaid_per_offer" ON "exchange_contract" '
                       "(\"buyer_id\", \"offer_id\") WHERE \"status\" = 'awaiting_payment'")

    keep.refresh_from_db()
    assert keep.status == "awaiting_payment"
    for dup in duplicates:
        dup.refresh_from_db()
        dup.access_request.refresh_from_db()
        assert (dup.status, dup.access_request.status) == ("cancelled", "cancelled")
