"""Delta Sharing (SPEC §10): the bearer tokens of buyers' profile files.

Fields and small predicates only; issuing, checking and revoking live in
``exchange.services.sharing``.
"""

import uuid

from django.db import models
from django.db.models import Q

from .delivery import Delivery
from .orgs import Organization


class SharingToken(models.Model):
    """The bearer token of one profile file, for one delivery's table.

    Only the SHA-256 of the token is stored (the token is shown once, inside the profile).
    It expires with the licence (``expires_at`` = the delivery's end) and is revoked when
    the delivery is revoked, the contract refunded, or the buyer downloads a new profile
    (one live token per delivery: a leaked profile is stopped by downloading another).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="sharing_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["delivery"], condition=Q(revoked_at__isnull=True),
                                    name="sharing_token_one_live_per_delivery"),
        ]

    def __str__(self) -> str:
        return f"Sharing token {str(self.pk)[:8]} for {self.delivery}"
