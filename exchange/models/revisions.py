"""Revisions: the versions a published listing has carried, and the diff between each and the one before."""

from __future__ import annotations

import uuid

from django.db import models

from .catalog import DatasetVersion, Listing


class ListingRevision(models.Model):
    """One version published to a listing. The listing's ``version`` is its newest live revision;
    contracts stay frozen to the version they bought (``Contract.dataset_version``)."""

    class Status(models.TextChoices):
        LIVE = "live", "Live"
        IN_REVIEW = "in_review", "Awaiting staff review"
        REJECTED = "rejected", "Rejected by staff"

    class DiffStatus(models.TextChoices):
        NONE = "none", "No earlier version"
        PENDING = "pending", "Being computed"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="revisions")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="revisions")
    previous_version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    changelog = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.LIVE)
    # why staff must look before it goes live (schema or declared personal data changed)
    review_reasons = models.JSONField(default=list, blank=True)
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    live_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    diff_status = models.CharField(max_length=16, choices=DiffStatus.choices, default=DiffStatus.NONE)
    diff = models.JSONField(null=True, blank=True)  # workers.diff.VersionDiff.to_dict()
    diff_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "version"], name="revision_once_per_version"),
            models.UniqueConstraint(fields=["listing"], condition=models.Q(status="in_review"),
                                    name="revision_one_in_review"),
        ]

    def __str__(self) -> str:
        return f"{self.listing} v{self.version.number} ({self.status})"
