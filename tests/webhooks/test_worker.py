"""Webhooks sent by a real Celery worker process (Redis broker, PostgreSQL): the task is
published when the state change commits, and the sweeper re-publishes a due retry."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from exchange.models import WebhookMessage
from exchange.services import webhook_delivery
from exchange.services import webhooks as svc
from tests.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]


def test_a_worker_sends_the_event_after_commit_and_the_sweeper_drives_the_retry(
        make_firm, make_endpoint, receiver, celery_worker_process):
    firm = make_firm()
    endpoint, secret = make_endpoint(firm, receiver.url)
    worker = celery_worker_process(queues="default")
    receiver.fail_first = 1

    with transaction.atomic():
        svc.emit("contract.paid", firm, {"contract": "c-1", "status": "paid"})
        svc.emit("contract.settled", firm, {"contract": "c-1", "status": "settled"})

    wait_until(lambda: receiver.calls, timeout=60, message=f"the first POST; worker log:\n{worker.output()[-3000:]}")
    first = WebhookMessage.objects.order_by("seq").first()
    wait_until(lambda: WebhookMessage.objects.get(pk=first.pk).attempts == 1, timeout=30, message="the attempt stored")
    first.refresh_from_db()
    assert (first.status, first.last_status_code) == ("pending", 503)
    assert len(receiver.calls) == 1  # the second message waits behind the first
    # Fast-forward the retry's due time instead of waiting for the backoff; beat would sweep.
    WebhookMessage.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    assert webhook_delivery.sweep() == 1

    wait_until(lambda: WebhookMessage.objects.filter(status="delivered").count() == 2, timeout=60,
               message=f"both messages delivered; worker log:\n{worker.output()[-3000:]}")
    assert [c.json["type"] for c in receiver.accepted] == ["contract.paid", "contract.settled"]
    for call in receiver.accepted:
        Webhook(secret).verify(call.body, call.headers)
    assert receiver.calls[0].headers["webhook-id"] == receiver.calls[1].headers["webhook-id"] == first.msg_id
