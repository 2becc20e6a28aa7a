"""Webhooks (SPEC §9): a firm's endpoints, the outbox of messages to send, and the log
of every attempt. Fields, constraints and small predicates only; the rules live in
``exchange.services.webhooks``.
"""

import uuid

from django.conf import settings
from django.db import models

from .orgs import Organization

EVENT_TYPES = (
    "access_request.created", "access_request.approved", "access_request.rejected", "access_request.cancelled",
    "contract.paid", "contract.settled", "contract.refunded",
    "delivery.ready", "delivery.failed",
    "version.checked", "listing.reviewed", "listing.revised", "offer.retired",
)


class WebhookEndpoint(models.Model):
    """Where a firm's systems want events. The signing secret must be kept (HMAC needs it);
    it is shown to the firm once, at creation or rotation. After a rotation the previous
    secret also signs until ``previous_secret_expires_at``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.url} ({'enabled' if self.is_active else 'disabled'})"

    def signing_secrets(self, now) -> list[str]:
        """The secrets that sign a message sent at ``now``: the current one, and the previous
        one while its grace period runs."""
        live = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            live.append(self.previous_secret)
        return live

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in self.event_types


class WebhookMessage(models.Model):
    """One event for one endpoint (the outbox row), written in the transaction of the state
    change. ``body`` is serialised once, so every attempt sends the same bytes under the
    same ``webhook-id``. ``seq`` orders an endpoint's messages: only the oldest pending one
    is sent, so a receiver gets them in creation order."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    seq = models.BigAutoField(primary_key=True)
    msg_id = models.CharField("webhook-id", max_length=40, unique=True)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    event_type = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)  # consecutive, since the window started
    created_at = models.DateTimeField()
    window_started_at = models.DateTimeField()  # creation, or the last manual replay
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    manual_next = models.BooleanField(default=False)  # the next attempt was asked for by a replay
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["endpoint", "status", "seq"]), models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.msg_id} {self.event_type} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per POST (or refusal to POST)."""

    id = models.BigAutoField(primary_key=True)
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempt_log")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    response_excerpt = models.CharField(max_length=600, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    manual = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "-id"])]

    def __str__(self) -> str:
        return f"attempt {self.number} of message {self.message_id}: {self.status_code or self.error[:40]}"
