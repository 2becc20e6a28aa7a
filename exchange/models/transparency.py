"""The audit transparency log (SPEC §11): stored Merkle tree nodes and signed checkpoints.

The Merkle code itself is ``workers.tlog``; writes happen in
``exchange.services.transparency``.
"""

from django.db import models


class AuditTreeNode(models.Model):
    """One complete subtree of the audit Merkle tree: the RFC 6962 hash of the leaves
    ``[index·2^level, (index+1)·2^level)``; level 0 rows are the leaf hashes
    (SHA-256(0x00 ‖ canonical event bytes)) of event ``seq = index + 1``.

    Rows are written in the transaction of the event they complete, never changed (on
    PostgreSQL a trigger refuses UPDATE and DELETE).
    """

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="audit_tree_node_unique")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class AuditCheckpoint(models.Model):
    """A signed C2SP checkpoint of the audit tree at ``tree_size`` events."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField(help_text="The signed note exactly as published.")
    key = models.ForeignKey("exchange.SigningKey", on_delete=models.PROTECT, related_name="checkpoints")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"checkpoint at {self.tree_size}"
