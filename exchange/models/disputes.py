"""After-sales: a buyer's dispute over a delivered contract, and in-app notifications.

Fields, constraints and small predicates only; transitions live in
``exchange.services.disputes`` (and the money in ``exchange.services.escrow``), notices in
``exchange.services.notifications``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .orgs import Organization
from .trading import Contract


class Dispute(models.Model):
    """``open → rechecking → open`` (a quality re-check that passed goes to staff) and
    ``open | rechecking → refunded | partially_refunded | rejected``. At most one open dispute per
    contract; while it is open the contract's acceptance window is stopped."""

    class Kind(models.TextChoices):
        QUALITY = "quality_below_guarantee", "Quality below the guarantee"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        DELIVERY_BROKEN = "delivery_broken", "Delivery broken"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open (with staff)"
        RECHECKING = "rechecking", "Re-checking the delivered data"
        REFUNDED = "refunded", "Refunded in full"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REJECTED = "rejected", "Rejected"

    OPEN_STATES = (Status.OPEN, Status.RECHECKING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="disputes")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="disputes_opened")
    seller = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="disputes_received")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    seller_response = models.TextField(blank=True)
    seller_responded_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    refund_fen = models.PositiveBigIntegerField(default=0)
    # The re-check of the delivered bytes against the frozen guarantee (quality disputes only).
    recheck_token = models.CharField(max_length=32, blank=True)
    recheck_heartbeat_at = models.DateTimeField(null=True, blank=True)
    recheck_attempts = models.PositiveIntegerField(default=0)
    recheck_queued_at = models.DateTimeField(null=True, blank=True)
    recheck_finished_at = models.DateTimeField(null=True, blank=True)
    recheck_passed = models.BooleanField(null=True, blank=True)
    recheck_result = models.JSONField(null=True, blank=True)  # the guarantee's verdict, check by check
    recheck_report = models.JSONField(null=True, blank=True)  # the delivered file's quality report
    recheck_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["contract"], condition=Q(status__in=["open", "rechecking"]),
                                    name="dispute_one_open_per_contract"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Dispute {str(self.pk)[:8]} on contract {str(self.contract_id)[:8]} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES


class Notification(models.Model):
    """One notice to one member of a firm: shown in the web site, e-mailed by a worker."""

    id = models.BigAutoField(primary_key=True)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread",
                                condition=Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_id}"
