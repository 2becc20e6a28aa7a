"""Audit transparency-log tasks: thin shims over exchange.services.transparency."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="shujiao.audit.checkpoint", acks_late=True)
def sign_checkpoint() -> int:
    """Sign a checkpoint if the tree grew since the last one (idempotent: one per tree size)."""
    from exchange.services.transparency import checkpoint_sign_if_grown

    checkpoint = checkpoint_sign_if_grown()
    return checkpoint.tree_size if checkpoint is not None else -1
