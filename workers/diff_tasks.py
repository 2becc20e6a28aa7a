"""Version-diff tasks: thin shims over exchange.services.revisions."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="shujiao.diff.compute_revision", acks_late=True, soft_time_limit=3600, time_limit=3660)
def compute_revision_diff(revision_id: str) -> str:
    """Compute a revision's diff against the version it replaced (idempotent: stored once)."""
    from exchange.services.revisions import revision_diff_compute

    return revision_diff_compute(revision_id=revision_id)


@shared_task(name="shujiao.diff.sweep", acks_late=True)
def sweep_diffs() -> int:
    """Send again the diffs whose task was lost."""
    from exchange.services.revisions import revision_diff_sweep

    return revision_diff_sweep()
