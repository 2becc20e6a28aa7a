"""Celery tasks: thin shims over exchange services. Tasks take ids, never model instances.

Each task is idempotent (services claim their row with a conditional update), runs
late-acknowledged, and has an explicit stable name and queue.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

# Heavy libraries (pyarrow) load once when the worker starts — before the pool forks, so
# every pool process shares them — never per task.
import workers.delivery  # noqa: F401
import workers.quality  # noqa: F401


@shared_task(name="shujiao.quality.check_version", bind=True, acks_late=True, max_retries=None,
             soft_time_limit=settings.QUALITY_CHECK_TIME_LIMIT, time_limit=settings.QUALITY_CHECK_TIME_LIMIT + 60)
def check_version(self, version_id: str) -> str:
    from exchange.services import quality

    try:
        claim = quality.quality_check_claim(version_id=version_id)
    except quality.ClaimBusy:
        # Another attempt is live (or died moments ago): look again once its claim could be stale.
        raise self.retry(countdown=settings.QUALITY_STALE_SECONDS + 1) from None
    if claim is None:
        return "nothing to do"
    try:
        stored = quality.quality_check_run(claim=claim)
    except SoftTimeLimitExceeded:
        quality.quality_check_fail(claim=claim, message=(
            f"The check exceeded its time limit of {settings.QUALITY_CHECK_TIME_LIMIT} seconds."))
        return "timed out"
    except OSError as exc:
        quality.quality_check_fail(claim=claim, message=f"The stored file could not be read: {exc}")
        return "unreadable"
    return "stored" if stored else "claim lost"


@shared_task(name="shujiao.quality.sweep", acks_late=True)
def sweep_quality() -> int:
    from exchange.services.quality import quality_sweep

    return quality_sweep()
