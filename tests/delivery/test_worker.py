"""Deliveries built by real Celery worker processes on Redis, against PostgreSQL:
the happy path, a pool process killed mid-build, and a broker that is down at commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from exchange.models import AuditEvent, Contract, Delivery, LedgerTransfer
from exchange.services.delivery import delivery_sweep
from tests.conftest import ROOT, wait_until, worker_env

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


def _get(delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def _packages(delivery) -> list[str]:
    return sorted(default_storage.listdir(f"deliveries/{delivery.pk}")[1])


def _exactly_once(delivery) -> None:
    d = _get(delivery)
    assert d.status == "ready", d.error
    assert _packages(d) == sorted([d.package_name.rsplit("/", 1)[1], d.parquet_name.rsplit("/", 1)[1]])
    assert Contract.objects.get(pk=d.contract_id).status == "settled"
    assert LedgerTransfer.objects.filter(contract_id=d.contract_id, kind="settlement").count() == 1
    assert AuditEvent.objects.filter(action="delivery.ready", object_id=str(d.pk)).count() == 1
    assert AuditEvent.objects.filter(action="contract.settled", object_id=str(d.contract_id)).count() == 1


def test_worker_builds_the_delivery_of_a_paid_contract(paid_contract, celery_worker_process):
    worker = celery_worker_process(queues="delivery")
    delivery = paid_contract().delivery  # the build task is published when the payment commits
    wait_until(lambda: _get(delivery).status in ("ready", "failed"), timeout=60,
               message=f"the delivery to be built; worker log:\n{worker.output()[-3000:]}")
    _exactly_once(delivery)
    assert _get(delivery).attempts == 1


def test_sigkilled_build_completes_once(paid_contract, celery_worker_process):
    contract = paid_contract()  # no worker yet: the build message waits in Redis
    delivery = contract.delivery
    # Replace the stored source with a FIFO: the build blocks opening it until we let it go.
    path = default_storage.path(contract.dataset_version.file.name)
    real = path + ".real"
    os.replace(path, real)
    os.mkfifo(path)
    worker = celery_worker_process(queues="delivery", DELIVERY_STALE_SECONDS="2")
    wait_until(lambda: _get(delivery).status == "building", timeout=60, message="the first attempt to claim the build")
    children = wait_until(worker.child_pids, timeout=10, message="the worker's pool process")
    # When the process running the build is killed with SIGKILL
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    os.replace(real, path)  # the source is readable again for the next attempt
    # Then the build runs again (redelivery, then claim takeover once stale) and completes once
    try:
        wait_until(lambda: _get(delivery).status in ("ready", "failed"), timeout=120, message="the build to be retried")
    finally:
        print(worker.output()[-6000:])
    _exactly_once(delivery)
    assert _get(delivery).attempts == 2
    assert "WorkerLostError" in worker.output() or "SIGKILL" in worker.output()


def test_sigkilled_main_worker_build_is_recovered_within_30_seconds(paid_contract, celery_worker_process):
    """The whole worker is SIGKILLed mid-build (its message stays unacked in Redis for hours); a
    restarted worker with beat takes the stale claim over through the sweeper, with default settings."""
    contract = paid_contract()
    delivery = contract.delivery
    path = default_storage.path(contract.dataset_version.file.name)
    real = path + ".real"
    os.replace(path, real)
    os.mkfifo(path)
    worker = celery_worker_process(queues="delivery")
    claimed = wait_until(lambda: _get(delivery).status == "building" and _get(delivery), timeout=60,
                         message="the first attempt to claim the build")
    wait_until(lambda: _get(delivery).heartbeat_at > claimed.heartbeat_at, timeout=20,
               message="a heartbeat from the background thread while the build is blocked")
    os.killpg(worker.proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    worker.proc.wait(timeout=10)
    os.replace(real, path)

    replacement = celery_worker_process(queues="delivery", beat=True)
    wait_until(lambda: _get(delivery).status in ("ready", "failed"), timeout=60,
               message=f"the build to be taken over; worker log:\n{replacement.output()[-4000:]}")
    elapsed = time.monotonic() - killed_at

    _exactly_once(delivery)
    assert _get(delivery).attempts == 2
    assert elapsed < 30, f"recovered {elapsed:.1f} s after the SIGKILL"
    print(f"recovered {elapsed:.1f} s after SIGKILL of the main worker")


PAY_IN_SUBPROCESS = """
from django.contrib.auth import get_user_model
from exchange.actor import Actor
from exchange.models import Offer, Organization
from exchange.services.trading import access_request_create
org = Organization.objects.get(pk="{buyer}")
user = get_user_model().objects.get(pk={user})
request = access_request_create(actor=Actor(type="user", user=user, organization=org), offer=Offer.objects.get(pk="{offer}"),
                                purpose="Training an intent classifier for our customer service.")
print("CONTRACT", request.contract.pk, request.contract.status)
"""


def test_broker_down_at_commit_loses_nothing_the_sweeper_requeues(
        make_firm, actor_for, staff_actor, signing_key, celery_worker_process):
    import redis

    from exchange.services import catalog
    from exchange.services.trading import wallet_topup
    from tests.factories import make_dataset, passed_version

    seller, buyer = make_firm("Seller"), make_firm("Buyer")
    s_actor = actor_for(seller)
    dataset = make_dataset(s_actor)
    listing = catalog.listing_create(actor=s_actor, dataset=dataset, version=passed_version(s_actor, dataset))
    offer = catalog.offer_create(actor=s_actor, listing=listing, name="Std", price_fen=5000, access_mode="instant")
    catalog.listing_submit(actor=s_actor, listing=listing)
    catalog.listing_review(actor=staff_actor, listing=listing, approve=True)
    wallet_topup(actor=staff_actor, organization=buyer, amount_fen=10000, memo="bank ref 7")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in broker.scan_iter(match=f"{settings.CELERY_KEYPREFIX}*"):  # this run's queues only
        broker.delete(key)
    # Given the web process's broker URL points at a closed port while the payment commits
    code = PAY_IN_SUBPROCESS.format(buyer=buyer.pk, user=actor_for(buyer).user.pk, offer=offer.pk)
    env = worker_env(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    paid = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    # Then the payment still succeeds and the delivery waits, queued, with no message anywhere
    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert "paid" in paid.stdout and "could not publish shujiao.delivery.build" in paid.stderr
    delivery = Delivery.objects.get(contract__buyer=buyer)
    assert delivery.status == "queued"
    assert broker.llen(f"{settings.CELERY_KEYPREFIX}delivery") == 0
    # When the broker is back and the sweeper runs (past the requeue deadline)
    worker = celery_worker_process(queues="delivery")
    assert delivery_sweep() == 0  # not yet past DELIVERY_REQUEUE_AFTER_SECONDS
    Delivery.objects.filter(pk=delivery.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    assert delivery_sweep() == 1
    assert delivery_sweep() == 1  # a second sweep before the build ran: a duplicate message, harmless
    # Then the delivery is built once
    wait_until(lambda: _get(delivery).status in ("ready", "failed"), timeout=60,
               message=f"the swept build; worker log:\n{worker.output()[-3000:]}")
    wait_until(lambda: "nothing to do" in worker.output(), timeout=30, message="the duplicate message to be a no-op")
    _exactly_once(delivery)
    assert delivery_sweep() == 0
