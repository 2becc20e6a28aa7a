"""Cleaning lineage: a version derived from a licensed upstream version, and the revenue share
each sale of it paid upstream. Rules live in ``exchange.services.lineage``."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .catalog import DatasetVersion
from .orgs import Organization
from .trading import Contract, LedgerTransfer


class LineageStep(models.TextChoices):
    DEDUPLICATED = "deduplicated", "Deduplicated"
    RELABELLED = "relabelled", "Relabelled"
    FILTERED = "filtered", "Filtered"
    JOINED = "joined", "Joined"
    ANONYMISED = "anonymised", "Anonymised"


class VersionLineage(models.Model):
    """``version`` was derived from ``upstream`` under the licence ``licence`` (a contract its
    firm bought). The upstream offer's revenue share is frozen here at declaration."""

    version = models.OneToOneField(DatasetVersion, on_delete=models.PROTECT, related_name="lineage")
    upstream = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="derivatives")
    licence = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="derivative_lineages")
    share_bp = models.PositiveSmallIntegerField(default=0)
    steps = models.JSONField(default=list, blank=True)  # LineageStep values, in a fixed order
    notes = models.TextField(blank=True)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(share_bp__lte=10000), name="lineage_share_at_most_all"),
            models.CheckConstraint(condition=~Q(version=models.F("upstream")), name="lineage_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.version_id} derived from {self.upstream_id}"

    @property
    def step_labels(self) -> list[str]:
        return [LineageStep(s).label for s in self.steps if s in LineageStep.values]


class RevenueShare(models.Model):
    """The part of one sale of derived data paid to the upstream seller, in the settlement's transfer."""

    contract = models.OneToOneField(Contract, on_delete=models.PROTECT, related_name="revenue_share")
    lineage = models.ForeignKey(VersionLineage, on_delete=models.PROTECT, related_name="shares")
    upstream_seller = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="revenue_shares_received")
    transfer = models.OneToOneField(LedgerTransfer, on_delete=models.PROTECT, related_name="revenue_share")
    # What the downstream seller kept after commission (and after any partial refund): the base of the share.
    base_fen = models.PositiveBigIntegerField()
    share_bp = models.PositiveSmallIntegerField()
    share_fen = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(share_fen__lte=models.F("base_fen")), name="share_at_most_base"),
            models.CheckConstraint(condition=Q(share_fen__gte=1), name="share_positive"),
        ]

    def __str__(self) -> str:
        return f"Share {self.share_fen} fen of contract {self.contract_id}"
