"""End to end with real Celery workers on Redis and PostgreSQL: buy → ready → quality dispute →
re-check of the delivered bytes → automatic refund (or staff's partial refund when the guarantee
holds), and a re-check worker SIGKILLed midway that completes once with one refund at most."""

from __future__ import annotations

import os
import signal

import pytest
from django.core.files.storage import default_storage

from exchange.models import Account, AuditEvent, Contract, Dispute, LedgerTransfer, Listing
from exchange.services import audit, ledger
from exchange.services.disputes import dispute_decide, dispute_open
from tests.conftest import wait_until
from tests.delivery.test_guarantee import BAD_DATA, GUARANTEE, PRICE, replace_delivered_data

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


def _buyer(org):
    from exchange.actor import Actor

    return Actor(type="user", user=org.memberships.select_related("user").first().user, organization=org)


def _delivered_by_worker(paid_contract, worker) -> Contract:
    contract = paid_contract(price_fen=PRICE, acceptance_days=3, guarantee=GUARANTEE)
    wait_until(lambda: Contract.objects.get(pk=contract.pk).status in ("delivered", "refunded"), timeout=90,
               message=f"the delivery to be built; worker log:\n{worker.output()[-3000:]}")
    contract.refresh_from_db()
    assert contract.status == "delivered", contract.delivery.error
    return contract


def _dispute(contract) -> Dispute:
    return dispute_open(actor=_buyer(contract.buyer), contract_id=contract.pk, kind="quality_below_guarantee",
                        text="The delivered file is much worse than the listed report.")


def _balances(contract):
    return (ledger.wallet_of(contract.buyer).balance, ledger.wallet_of(contract.seller).balance,
            ledger.system_account(Account.Kind.ESCROW).balance, ledger.system_account(Account.Kind.REVENUE).balance)


def _audit_and_ledger_clean():
    assert ledger.ledger_verify() is None
    assert audit.audit_verify_chain().ok


def test_failed_recheck_refunds_the_buyer_automatically(paid_contract, celery_worker_process):
    worker = celery_worker_process(queues="delivery,quality")
    contract = _delivered_by_worker(paid_contract, worker)
    contract.delivery.refresh_from_db()
    replace_delivered_data(contract.delivery, BAD_DATA)  # what the buyer got is not what was listed
    dispute = _dispute(contract)
    wait_until(lambda: Dispute.objects.get(pk=dispute.pk).status not in ("rechecking",), timeout=90,
               message=f"the re-check to finish; worker log:\n{worker.output()[-3000:]}")
    dispute.refresh_from_db()
    contract.refresh_from_db()
    assert (dispute.status, dispute.recheck_passed, contract.status) == ("refunded", False, "refunded")
    assert contract.delivery.status == "revoked"
    assert Listing.objects.get(pk=contract.listing_id).flag_reason.startswith(f"Dispute {dispute.pk}")
    assert _balances(contract) == (2 * PRICE, 0, 0, 0)
    assert LedgerTransfer.objects.filter(contract=contract, kind="refund").count() == 1
    _audit_and_ledger_clean()


def test_passed_recheck_goes_to_staff_who_grant_a_partial_refund(paid_contract, celery_worker_process, staff_actor):
    worker = celery_worker_process(queues="delivery,quality")
    contract = _delivered_by_worker(paid_contract, worker)
    dispute = _dispute(contract)
    wait_until(lambda: Dispute.objects.get(pk=dispute.pk).recheck_passed is not None, timeout=90,
               message=f"the re-check to finish; worker log:\n{worker.output()[-3000:]}")
    dispute.refresh_from_db()
    assert (dispute.status, dispute.recheck_passed) == ("open", True)
    assert dispute.recheck_report["rows"] == 20
    dispute_decide(actor=staff_actor, dispute_id=dispute.pk, outcome="partial_refund", refund_fen=3333,
                   reason="The guarantee held, but a third of the texts are weak.")
    contract.refresh_from_db()
    # seller keeps 6667; commission floor(6667 × 5 %) = 333; seller gets 6334
    assert contract.status == "partially_refunded"
    assert _balances(contract) == (PRICE + 3333, 6334, 0, 333)
    _audit_and_ledger_clean()


def test_sigkilled_recheck_completes_once_with_one_refund(paid_contract, celery_worker_process, tmp_path):
    delivery_worker = celery_worker_process(queues="delivery")
    contract = _delivered_by_worker(paid_contract, delivery_worker)
    contract.delivery.refresh_from_db()
    replace_delivered_data(contract.delivery, BAD_DATA)
    # The stored package becomes a FIFO: the re-check blocks opening it until we let it go.
    path = default_storage.path(contract.delivery.package_name)
    # kept outside the delivery's folder: the delivery worker's post-commit cleanup removes any other
    # file there (packages of dead attempts), and it may still be running when the contract is delivered
    real = str(tmp_path / "package.real")
    os.replace(path, real)
    os.mkfifo(path)
    dispute = _dispute(contract)
    worker = celery_worker_process(queues="quality", QUALITY_STALE_SECONDS="2")
    wait_until(lambda: Dispute.objects.get(pk=dispute.pk).recheck_token, timeout=60,
               message=f"the first attempt to claim the re-check; log:\n{worker.output()[-3000:]}")
    children = wait_until(worker.child_pids, timeout=10, message="the worker's pool process")
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    os.replace(real, path)
    try:
        wait_until(lambda: Dispute.objects.get(pk=dispute.pk).status == "refunded", timeout=120,
                   message="the re-check to be taken over and finish")
    finally:
        print(worker.output()[-6000:])
    dispute.refresh_from_db()
    assert dispute.recheck_attempts == 2
    assert LedgerTransfer.objects.filter(contract=contract, kind="refund").count() == 1
    assert AuditEvent.objects.filter(action="dispute.rechecked", object_id=str(dispute.pk)).count() == 1
    assert AuditEvent.objects.filter(action="dispute.decided", object_id=str(dispute.pk)).count() == 1
    assert _balances(contract)[:3] == (2 * PRICE, 0, 0)
    _audit_and_ledger_clean()
