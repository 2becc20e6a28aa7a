"""Subscriptions end to end with real Celery workers on Redis and PostgreSQL (issue 11, Done means):
a subscriber buys, the seller publishes v2, the subscriber receives a second signed delivery whose
package verifies with openssl and sha256sum and contains the diff; a one-off buyer of v1 does not.
And a worker SIGKILLed in the middle of an update build recovers, delivering once."""

from __future__ import annotations

import json
import os
import signal

import pytest
from django.core.files.storage import default_storage

from exchange.models import AuditEvent, Delivery, LedgerTransfer
from exchange.services import revisions
from tests.conftest import wait_until
from tests.factories import passed_version
from tests.revisions.test_revisions import v2_bytes
from tests.subscriptions.conftest import unpack, verify_with_stock_tools

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


def _status(pk) -> str:
    return Delivery.objects.get(pk=pk).status


def _ready(pk, worker, what: str) -> Delivery:
    wait_until(lambda: _status(pk) in ("ready", "failed"), timeout=90,
               message=f"{what}; worker log:\n{worker.output()[-3000:]}")
    delivery = Delivery.objects.get(pk=pk)
    assert delivery.status == "ready", delivery.error
    return delivery


def test_subscriber_receives_v2_signed_with_the_diff_and_one_off_buyer_does_not(
        paid_contract, one_off_buyer, actor_for, celery_worker_process, client, tmp_path):
    worker = celery_worker_process(queues="default,quality,delivery")
    sub = paid_contract(offer={"kind": "subscription"})  # the build is published when the payment commits
    one_off = one_off_buyer(sub.listing)
    _ready(sub.delivery.pk, worker, "the subscriber's first delivery")
    _ready(one_off.delivery.pk, worker, "the one-off buyer's delivery")
    transfers = LedgerTransfer.objects.count()
    # when the seller publishes v2 to the listing
    seller = actor_for(sub.seller)
    v2 = passed_version(seller, sub.listing.dataset, v2_bytes())
    revision = revisions.listing_publish_version(actor=seller, listing=sub.listing, version=v2,
                                                 changelog="Relabelled row 1, fixed row 2")
    assert revision.status == "live"
    # then the worker builds the subscriber a second delivery, of v2
    update = wait_until(lambda: Delivery.objects.filter(contract=sub, initial=False).first(), timeout=10,
                        message="the update delivery to be made")
    update = _ready(update.pk, worker, "the update delivery")
    assert update.dataset_version_id == v2.pk and update.diff_from.number == 1
    # whose package verifies with the stock tools and carries the diff
    out = unpack(client, update, tmp_path)
    assert "metadata/diff.json: OK" in verify_with_stock_tools(out, update.key_id)
    diff = json.loads((out / "metadata" / "diff.json").read_text())
    [step] = diff["steps"]
    assert (diff["from_version"], diff["to_version"], step["status"]) == (1, 2, "ready")
    assert step["diff"]["rows"]["relabelled"] == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataset"]["version"] == 2 and manifest["update"]["path"] == "metadata/diff.json"
    # the one-off buyer of v1 gets nothing new, and no money moved
    assert list(Delivery.objects.filter(contract=one_off).values_list("dataset_version__number", flat=True)) == [1]
    assert LedgerTransfer.objects.count() == transfers
    assert AuditEvent.objects.filter(action="delivery.ready", object_id=str(update.pk)).count() == 1


def test_update_build_killed_mid_way_is_recovered_once(paid_contract, actor_for, celery_worker_process, build_now):
    sub = paid_contract(offer={"kind": "subscription"})  # no worker yet: the first build runs here
    build_now(sub.delivery)
    seller = actor_for(sub.seller)
    v2 = passed_version(seller, sub.listing.dataset, v2_bytes())
    # v2's stored file is a FIFO for now: whoever reads it (the diff, then the package) blocks
    path = default_storage.path(v2.file.name)
    real = path + ".real"
    os.replace(path, real)
    os.mkfifo(path)
    revisions.listing_publish_version(actor=seller, listing=sub.listing, version=v2, changelog="Fixed row 2")
    update = Delivery.objects.get(contract=sub, initial=False)
    # only a delivery worker runs: the diff task waits in its queue, so the build computes the diff itself
    worker = celery_worker_process(queues="delivery", DELIVERY_STALE_SECONDS="2")
    wait_until(lambda: _status(update.pk) == "building", timeout=60, message="the update build to be claimed")
    children = wait_until(worker.child_pids, timeout=10, message="the worker's pool process")
    for pid in children:  # when the process building it is killed
        os.kill(pid, signal.SIGKILL)
    os.replace(real, path)
    # then it is built again and delivered once, with the diff
    try:
        update = _ready(update.pk, worker, "the update build to be retried")
    finally:
        print(worker.output()[-4000:])
    assert update.attempts == 2
    assert "metadata/diff.json" in [f["path"] for f in update.manifest["files"]]
    assert Delivery.objects.filter(contract=sub).count() == 2
    assert AuditEvent.objects.filter(action="delivery.ready", object_id=str(update.pk)).count() == 1
    assert sorted(default_storage.listdir(f"deliveries/{update.pk}")[1]) == sorted(
        [update.package_name.rsplit("/", 1)[1], update.parquet_name.rsplit("/", 1)[1]])
