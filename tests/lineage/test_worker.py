"""End to end with a real delivery worker (Redis, PostgreSQL): the sale of a derived version is
settled when the worker's delivery is ready, and that settlement pays the upstream share."""

from __future__ import annotations

import pytest

from exchange.models import AuditEvent, Contract, Delivery, LedgerEntry, RevenueShare
from exchange.services.ledger import ledger_verify, wallet_of
from exchange.services.lineage import lineage_declare
from tests.conftest import wait_until
from tests.delivery.conftest import paid_contract, signing_key  # noqa: F401  (fixtures)
from tests.factories import csv_bytes

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


def test_worker_settlement_pays_the_upstream_share(paid_contract, celery_worker_process, make_firm,  # noqa: F811
                                                   actor_for):
    upstream_seller, licensee, buyer = make_firm("Upstream Data"), make_firm("Cleaner"), make_firm("End Buyer")
    licence = paid_contract(seller=upstream_seller, buyer=licensee, price_fen=20_000,
                            offer={"derivatives_allowed": True, "derivative_share_bp": 2500})
    sale = paid_contract(seller=licensee, buyer=buyer, price_fen=12_345, content=csv_bytes(15), filename="clean.csv")
    lineage_declare(actor=actor_for(licensee), version=sale.dataset_version,
                    derived_from=licence.dataset_version_id, steps=["deduplicated"])
    before_up, before_down = wallet_of(upstream_seller).balance, wallet_of(licensee).balance
    worker = celery_worker_process(queues="delivery")  # both builds were queued when the payments committed
    wait_until(lambda: Contract.objects.get(pk=sale.pk).status == "settled"
               and Contract.objects.get(pk=licence.pk).status == "settled", timeout=120,
               message=f"both deliveries built and settled; worker log:\n{worker.output()[-3000:]}")
    assert Delivery.objects.get(contract=sale).status == "ready"
    # 12345 fen: commission floor(617.25) = 617, proceeds 11728, 25 % = 2932
    share = RevenueShare.objects.get(contract=sale)
    assert (share.base_fen, share.share_fen, share.upstream_seller_id) == (11_728, 2_932, upstream_seller.pk)
    assert not RevenueShare.objects.filter(contract=licence).exists()
    licence_payout = 20_000 - 1_000
    assert wallet_of(upstream_seller).balance - before_up == 2_932 + licence_payout
    assert wallet_of(licensee).balance - before_down == 11_728 - 2_932
    assert sum(LedgerEntry.objects.filter(transfer=share.transfer).values_list("amount", flat=True)) == 0
    assert AuditEvent.objects.filter(action="lineage.share_paid", object_id=str(sale.pk)).count() == 1
    assert ledger_verify() is None
