"""Sending the webhook outbox: one endpoint's messages in creation order, the log, retries.

Only the oldest pending message of an endpoint is eligible, so a receiver sees an
endpoint's events in the order they were created; while it fails, the endpoint's later
messages wait behind it (until it is delivered, or given up after the retry window).
A message is sent by whoever wins a conditional ``UPDATE`` that sets a short lease; the
result is stored only under that claim, so two workers never send it at once. A worker
that dies after the POST but before storing the result sends it again later under the
same ``webhook-id`` — delivery is at least once; receivers drop repeats by that id.

Every function takes ``now`` so tests drive retries with a clock instead of sleeping.
The ``webhook-timestamp`` header is always the real send time (receivers check it
against their own clock).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from exchange.actor import Actor
from exchange.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from exchange.services.audit import audit_record
from exchange.services.dispatch import send_task_now
from exchange.services.webhooks import DELIVER_TASK
from workers.webhooks import schedule, sender, signing

logger = logging.getLogger(__name__)

# One task run sends at most this many messages of one endpoint (50 × 15 s timeout stays
# well inside the task's time limit), then hands the rest to a fresh task.
BATCH = 50
# A claim outlives the HTTP timeout with room for the database writes around it.
LEASE = timedelta(seconds=60)
SWEEP_LIMIT = 500


@dataclass(frozen=True)
class Claim:
    seq: int
    token: str
    msg_id: str
    body: str
    url: str
    secrets: tuple[str, ...]
    manual: bool


def _claim_head(endpoint_id, now: datetime) -> Claim | None:
    """Claim the endpoint's oldest pending message if it is due and nobody holds it."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).first()
    if endpoint is None:
        return None
    head = (WebhookMessage.objects.filter(endpoint_id=endpoint.pk, status=WebhookMessage.Status.PENDING)
            .order_by("seq").first())
    if head is None or head.next_attempt_at > now:
        return None
    token = secrets.token_hex(16)
    won = (WebhookMessage.objects.filter(pk=head.pk, status=WebhookMessage.Status.PENDING)
           .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
           .update(claim_token=token, claimed_until=now + LEASE))
    if not won:
        return None
    return Claim(seq=head.pk, token=token, msg_id=head.msg_id, body=head.body, url=endpoint.url,
                 secrets=tuple(endpoint.signing_secrets(now)), manual=head.manual_next)


def _post(claim: Claim) -> tuple[sender.Response, int]:
    body = claim.body.encode()
    headers = signing.headers(list(claim.secrets), claim.msg_id, int(time.time()), body)
    started = time.monotonic()
    response = sender.post(claim.url, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                           allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    return response, int((time.monotonic() - started) * 1000)


def _store(claim: Claim, response: sender.Response, duration_ms: int, now: datetime) -> bool:
    """Log the attempt and move the message on; True when the next message may go now
    (this one was delivered, or given up after its retry window)."""
    with transaction.atomic():
        message = WebhookMessage.objects.select_for_update().select_related("endpoint").get(pk=claim.seq)
        mine = message.claim_token == claim.token and message.status == WebhookMessage.Status.PENDING
        message.attempts += 1
        WebhookAttempt.objects.create(
            message=message, endpoint=message.endpoint, number=message.attempts, attempted_at=now,
            status_code=response.status, ok=response.ok, response_excerpt=response.excerpt[:600],
            error=response.error[:500], duration_ms=duration_ms, manual=claim.manual)
        fields = ["attempts"]
        if mine:
            message.claim_token, message.claimed_until, message.manual_next = "", None, False
            message.last_status_code, message.last_error = response.status, response.error[:500]
            fields += ["claim_token", "claimed_until", "manual_next", "last_status_code", "last_error"]
            if response.ok:
                message.status, message.delivered_at, message.failures = WebhookMessage.Status.DELIVERED, now, 0
                fields += ["status", "delivered_at", "failures"]
            else:
                message.failures += 1
                fields.append("failures")
                if response.status == 410:
                    _disable_gone(message.endpoint)
                    message.next_attempt_at = now
                    fields.append("next_attempt_at")
                else:
                    retry = schedule.next_attempt(failures=message.failures, now=now,
                                                  window_started=message.window_started_at,
                                                  retry_after=response.headers.get("retry-after"))
                    if retry is None:
                        message.status = WebhookMessage.Status.FAILED
                        fields.append("status")
                    else:
                        message.next_attempt_at = retry
                        fields.append("next_attempt_at")
        message.save(update_fields=fields)
    return mine and message.status != WebhookMessage.Status.PENDING


def _disable_gone(endpoint: WebhookEndpoint) -> None:
    """410 Gone: the receiver says the endpoint no longer exists. Its pending messages wait."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.is_active:
        return
    endpoint.is_active = False
    endpoint.disabled_reason = "The receiver answered 410 Gone."
    endpoint.save(update_fields=["is_active", "disabled_reason", "updated_at"])
    audit_record(actor=Actor.system("webhook-sender"), action="webhook_endpoint.disabled", obj=endpoint,
                 organization=endpoint.organization, details={"url": endpoint.url, "reason": endpoint.disabled_reason})


def deliver_endpoint(endpoint_id, *, now: datetime | None = None) -> int:
    """Send the endpoint's due messages oldest first until one fails; returns how many were delivered.

    Idempotent: what is not due, claimed by another worker, or already delivered is left alone.
    """
    delivered = 0
    for _ in range(BATCH):
        moment = now or timezone.now()
        claim = _claim_head(endpoint_id, moment)
        if claim is None:
            return delivered
        response, duration_ms = _post(claim)
        if not _store(claim, response, duration_ms, now or timezone.now()):
            return delivered
        delivered += response.ok
    # The batch is used up and more may be due: a fresh task carries on.
    send_task_now(DELIVER_TASK, str(endpoint_id))
    return delivered


def sweep(*, now: datetime | None = None) -> int:
    """Publish a send task for each enabled endpoint whose oldest pending message is due.

    This is how retries happen (their time is in ``next_attempt_at``), and how messages
    whose task was lost (broker down at commit, worker killed) are sent after all.
    """
    now = now or timezone.now()
    heads = (WebhookMessage.objects.filter(status=WebhookMessage.Status.PENDING, endpoint__is_active=True)
             .values("endpoint_id").annotate(head=Min("seq")).order_by("endpoint_id")[:SWEEP_LIMIT])
    due = WebhookMessage.objects.filter(pk__in=[row["head"] for row in heads], next_attempt_at__lte=now) \
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)).values_list("endpoint_id", flat=True)
    published = 0
    for endpoint_id in due:
        published += send_task_now(DELIVER_TASK, str(endpoint_id))
    return published
