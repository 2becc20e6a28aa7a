"""Delivery services: build, idempotency, races, integrity failure, retries, revoke, expiry, sweep."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput
from exchange.models import AuditEvent, Contract, Delivery, LedgerTransfer, SigningKey
from exchange.services import delivery as svc
from exchange.services import ledger
from workers.delivery import load_public_key, verify_package

pytestmark = pytest.mark.django_db


def packages(delivery) -> list[str]:
    folder = f"deliveries/{delivery.pk}"
    if not default_storage.exists(folder):
        return []
    return sorted(default_storage.listdir(folder)[1])


def transfers(contract, kind) -> int:
    return LedgerTransfer.objects.filter(contract=contract, kind=kind).count()


def actions(delivery) -> list[str]:
    return list(AuditEvent.objects.filter(object_id=str(delivery.pk)).order_by("seq").values_list("action", flat=True))


def test_package_sha256_is_recorded_when_enabled(paid_contract, build_now, signing_key, settings):
    settings.DELIVERY_HASH_PACKAGE = True
    delivery = paid_contract().delivery
    build_now(delivery)
    with default_storage.open(delivery.package_name, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == delivery.package_sha256
    assert delivery.etag == f'"{delivery.package_sha256}"'


def test_payment_creates_a_queued_delivery_and_enqueues_its_build_after_commit(
        paid_contract, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("exchange.services.dispatch.send_task_now", lambda name, *args: sent.append((name, args)) or True)
    with django_capture_on_commit_callbacks(execute=True):
        contract = paid_contract(content=b"id,text,label\n1,hello there,pos\n")
    delivery = contract.delivery
    assert delivery.status == "queued"
    assert delivery.bytes_total == contract.dataset_version.byte_size
    assert ("shujiao.delivery.build", (str(delivery.pk),)) in sent
    assert actions(delivery) == ["delivery.queued"]


def test_build_makes_a_verifiable_package_marks_ready_and_settles_once(paid_contract, build_now, signing_key):
    contract = paid_contract()
    delivery = contract.delivery
    escrow_before = ledger.system_account("escrow").balance

    build_now(delivery)

    contract.refresh_from_db()
    assert delivery.status == "ready" and delivery.error == ""
    assert contract.status == "settled"
    assert transfers(contract, "settlement") == 1 and transfers(contract, "refund") == 0
    assert ledger.system_account("escrow").balance == escrow_before - contract.price_fen
    assert packages(delivery) == sorted([delivery.package_name.rsplit("/", 1)[1], delivery.parquet_name.rsplit("/", 1)[1]])
    assert delivery.parquet_rows == contract.dataset_version.row_count == 20 and delivery.parquet_error == ""
    assert delivery.key_id == signing_key.kid == delivery.manifest["key_id"]
    assert delivery.expires_at - delivery.issued_at == timedelta(days=contract.term_days)
    with default_storage.open(delivery.package_name, "rb") as f:
        data = f.read()
    assert len(data) == delivery.package_size
    assert delivery.package_sha256 == ""  # DELIVERY_HASH_PACKAGE is off by default
    m = delivery.manifest
    assert m["format"] == "shujiao-delivery/1"
    assert (m["delivery_id"], m["contract_id"]) == (str(delivery.pk), str(contract.pk))
    assert (m["listing_id"], m["dataset_version_id"]) == (str(contract.listing_id), str(contract.dataset_version_id))
    assert m["seller"] == {"name": contract.seller.name, "credit_code": contract.seller.credit_code}
    assert m["buyer"] == {"name": contract.buyer.name, "credit_code": contract.buyer.credit_code}
    assert m["source_sha256"] == contract.dataset_version.sha256
    assert m["license"]["sha256"] == contract.licence_sha256
    assert (m["license"]["term_days"], m["license"]["download_limit"], m["license"]["redistribution"]) == (365, 3, False)
    assert [f["path"] for f in m["files"]] == ["LICENSE.txt", "SHA256SUMS", "data/reviews.csv", "datapackage.json",
                                          "metadata/croissant.json"]
    result = verify_package(io.BytesIO(data), public_keys={signing_key.kid: load_public_key(signing_key.public_key_pem)})
    assert result.ok, result.first_failure_detail
    assert actions(delivery) == ["delivery.queued", "delivery.ready"]
    assert AuditEvent.objects.filter(action="contract.settled", object_id=str(contract.pk)).count() == 1


def test_running_the_build_twice_makes_one_package_and_one_settlement(paid_contract, build_now):
    contract = paid_contract()
    delivery = contract.delivery
    build_now(delivery)
    first = delivery.package_name

    assert svc.delivery_claim(delivery_id=str(delivery.pk)) is None

    delivery.refresh_from_db()
    assert delivery.package_name == first and delivery.attempts == 1
    assert packages(delivery) == sorted([first.rsplit("/", 1)[1], delivery.parquet_name.rsplit("/", 1)[1]])
    assert transfers(contract, "settlement") == 1


def test_racing_builds_store_one_package_and_the_loser_discards_its_own(paid_contract, django_capture_on_commit_callbacks):
    contract = paid_contract()
    delivery = contract.delivery
    slow = svc.delivery_claim(delivery_id=str(delivery.pk))
    # The first attempt's heartbeat goes stale (its worker seems dead) and a second worker takes over.
    Delivery.objects.filter(pk=delivery.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    fast = svc.delivery_claim(delivery_id=str(delivery.pk))
    assert fast is not None and fast.token != slow.token
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.delivery_build(claim=fast) is not None
    # The first attempt wakes up and finishes too: its result is discarded.
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.delivery_build(claim=slow) is None

    delivery.refresh_from_db()
    assert delivery.status == "ready" and delivery.attempts == 2
    assert packages(delivery) == [f"{fast.token}.parquet", f"{fast.token}.zip"]
    assert transfers(contract, "settlement") == 1
    assert actions(delivery).count("delivery.ready") == 1


def test_a_live_claim_is_busy(paid_contract):
    delivery = paid_contract().delivery
    assert svc.delivery_claim(delivery_id=str(delivery.pk)) is not None
    with pytest.raises(svc.ClaimBusy):
        svc.delivery_claim(delivery_id=str(delivery.pk))


def test_source_changed_at_rest_fails_loudly_refunds_and_stores_nothing(paid_contract, build_now):
    contract = paid_contract()
    delivery = contract.delivery
    path = default_storage.path(contract.dataset_version.file.name)
    with open(path, "r+b") as f:  # one byte flipped on disk after the upload was hashed
        f.seek(20)
        byte = f.read(1)
        f.seek(20)
        f.write(bytes([byte[0] ^ 0x01]))
    buyer_before = ledger.wallet_of(contract.buyer).balance

    assert build_now(delivery) is None

    contract.refresh_from_db()
    assert delivery.status == "failed"
    assert "changed at rest" in delivery.error and contract.dataset_version.sha256 in delivery.error
    assert contract.status == "refunded"
    assert transfers(contract, "refund") == 1 and transfers(contract, "settlement") == 0
    assert ledger.wallet_of(contract.buyer).balance == buyer_before + contract.price_fen
    assert packages(delivery) == []
    assert delivery.package_name == "" and delivery.manifest is None
    event = AuditEvent.objects.get(action="delivery.failed", object_id=str(delivery.pk))
    assert event.details["code"] == "source_integrity" and event.details["refunded"] is True
    assert event.details["expected_sha256"] == contract.dataset_version.sha256


def test_missing_source_is_retried_then_fails_for_good_with_a_refund(paid_contract, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    contract = paid_contract()
    delivery = contract.delivery
    default_storage.delete(contract.dataset_version.file.name)
    for attempt in (1, 2):
        claim = svc.delivery_claim(delivery_id=str(delivery.pk))
        with pytest.raises(svc.TransientBuildError):
            svc.delivery_build(claim=claim)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("queued", attempt)
        assert "storage error" in delivery.error
        contract.refresh_from_db()
        assert contract.status == "paid"

    assert svc.delivery_claim(delivery_id=str(delivery.pk)) is None

    delivery.refresh_from_db()
    contract.refresh_from_db()
    assert delivery.status == "failed" and "after 2 attempts" in delivery.error
    assert contract.status == "refunded" and transfers(contract, "refund") == 1
    assert AuditEvent.objects.get(action="delivery.failed", object_id=str(delivery.pk)).details["code"] == "attempts_exhausted"


def test_no_active_key_releases_the_claim_for_a_retry(paid_contract, signing_key):
    contract = paid_contract()
    SigningKey.objects.filter(pk=signing_key.pk).update(status="retired", retired_at=timezone.now())
    claim = svc.delivery_claim(delivery_id=str(contract.delivery.pk))
    with pytest.raises(svc.TransientBuildError, match="No active signing key"):
        svc.delivery_build(claim=claim)
    contract.delivery.refresh_from_db()
    assert contract.delivery.status == "queued"
    assert transfers(contract, "refund") == 0 and transfers(contract, "settlement") == 0


def test_contract_refunded_while_building_is_not_delivered(paid_contract, staff_actor):
    from exchange.services.trading import contract_refund

    contract = paid_contract()
    delivery = contract.delivery
    claim = svc.delivery_claim(delivery_id=str(delivery.pk))
    contract_refund(contract_id=contract.pk, reason="dispute settled", actor=staff_actor)

    assert svc.delivery_build(claim=claim) is None

    delivery.refresh_from_db()
    assert delivery.status == "failed" and "refunded before the package was ready" in delivery.error
    assert transfers(contract, "settlement") == 0 and transfers(contract, "refund") == 1


def test_staff_revoke_a_ready_delivery_with_a_reason(ready_delivery, staff_actor):
    delivery = ready_delivery()
    revoked = svc.delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="Licence breach reported")
    assert revoked.status == "revoked" and revoked.revoke_reason == "Licence breach reported"
    event = AuditEvent.objects.get(action="delivery.revoked", object_id=str(delivery.pk))
    assert event.details == {"from": "ready", "reason": "Licence breach reported", "refunded": False}
    assert event.actor_type == "staff"
    assert Contract.objects.get(pk=delivery.contract_id).status == "settled"


def test_revoking_a_queued_delivery_refunds_the_buyer(paid_contract, staff_actor):
    contract = paid_contract()
    svc.delivery_revoke(actor=staff_actor, delivery_id=contract.delivery.pk, reason="Seller withdrew the data")
    contract.refresh_from_db()
    assert contract.status == "refunded" and transfers(contract, "refund") == 1
    assert svc.delivery_claim(delivery_id=str(contract.delivery.pk)) is None


def test_revoke_refusals_write_nothing(ready_delivery, actor_for, staff_actor):
    delivery = ready_delivery()
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput):
        svc.delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="  ")
    with pytest.raises(Forbidden):
        svc.delivery_revoke(actor=actor_for(delivery.contract.buyer), delivery_id=delivery.pk, reason="mine")
    svc.delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="breach")
    with pytest.raises(Conflict):
        svc.delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="again")
    assert AuditEvent.objects.count() == before + 1
    assert Delivery.objects.get(pk=delivery.pk).revoke_reason == "breach"


def test_expiry_moves_ready_deliveries_past_their_term_once(ready_delivery):
    delivery = ready_delivery(term_days=30)
    assert svc.deliveries_expire(now=delivery.expires_at - timedelta(seconds=1)) == 0
    assert svc.deliveries_expire(now=delivery.expires_at + timedelta(seconds=1)) == 1
    assert svc.deliveries_expire(now=delivery.expires_at + timedelta(days=1)) == 0
    delivery.refresh_from_db()
    assert delivery.status == "expired"
    assert AuditEvent.objects.filter(action="delivery.expired", object_id=str(delivery.pk)).count() == 1


def test_sweeper_requeues_old_queued_and_stale_building_deliveries_only(paid_contract, monkeypatch):
    sent = []
    monkeypatch.setattr(svc, "send_task_now", lambda name, *args: sent.append(args[0]) or True)
    fresh = paid_contract().delivery
    old = paid_contract().delivery
    stale = paid_contract().delivery
    live = paid_contract().delivery
    Delivery.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    svc.delivery_claim(delivery_id=str(stale.pk))
    svc.delivery_claim(delivery_id=str(live.pk))
    Delivery.objects.filter(pk=stale.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    assert svc.delivery_sweep() == 2

    assert sorted(sent) == sorted([str(old.pk), str(stale.pk)])
    assert str(fresh.pk) not in sent and str(live.pk) not in sent


def test_worker_actor_is_the_system():
    assert Actor.system(svc.WORKER).type == "system"
