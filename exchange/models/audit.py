"""The append-only, hash-chained audit trail."""

from django.db import models


class AuditEvent(models.Model):
    """One state change, download, staff action or key rotation.

    ``seq`` is the position in the chain (unique, so two writers can never fork it);
    ``hash`` is SHA-256 over the canonical serialisation of the event including
    ``prev_hash``. See exchange.services.audit for the serialisation. On PostgreSQL a
    trigger refuses UPDATE and DELETE on this table.
    """

    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        STAFF = "staff", "Staff"
        SYSTEM = "system", "System"
        SHARING_TOKEN = "sharing_token", "Delta Sharing token"

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    organization_id = models.CharField(max_length=64, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    details = models.JSONField(default=dict)
    origin_ip = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The newest event's ``seq`` and ``hash``: one row, moved forward in the transaction of every
    append. A chain shorter than its head was truncated (TRUNCATE, or its newest events deleted).
    Triggers refuse deleting this row and moving it backwards."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_single_row")]

    def __str__(self) -> str:
        return f"head #{self.seq} {self.hash[:12]}"
