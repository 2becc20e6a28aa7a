"""After-sales tasks: thin shims over exchange.services (escrow, disputes, notifications).
Tasks take ids only and are idempotent (each service re-reads its row under a lock or claims it)."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings


@shared_task(name="shujiao.trading.release_due", acks_late=True)
def release_due() -> int:
    """Release escrow of contracts whose acceptance window ended without an open dispute."""
    from exchange.services.escrow import contracts_release_due

    return contracts_release_due()


@shared_task(name="shujiao.trading.remind_windows", acks_late=True)
def remind_windows() -> int:
    from exchange.services.disputes import windows_remind

    return windows_remind()


@shared_task(name="shujiao.notifications.email", bind=True, acks_late=True, max_retries=8)
def email_notifications(self, ids: list[int]) -> int:
    """E-mail notifications; an SMTP or network error retries with backoff (rows already sent are skipped)."""
    from exchange.services.notifications import notifications_email

    try:
        return notifications_email(ids=ids)
    except OSError as exc:  # smtplib errors are OSErrors: a server down or refusing for now
        raise self.retry(countdown=min(3600, 30 * 2 ** self.request.retries), exc=exc) from None


@shared_task(name="shujiao.quality.recheck_dispute", bind=True, acks_late=True, max_retries=None,
             soft_time_limit=settings.QUALITY_CHECK_TIME_LIMIT, time_limit=settings.QUALITY_CHECK_TIME_LIMIT + 60)
def recheck_dispute(self, dispute_id: str) -> str:
    """Profile the delivered file of a quality dispute against its frozen guarantee."""
    from exchange.services import recheck
    from exchange.services.claims import ClaimBusy

    try:
        claim = recheck.recheck_claim(dispute_id=dispute_id)
    except ClaimBusy:
        raise self.retry(countdown=settings.QUALITY_STALE_SECONDS + 1) from None
    if claim is None:
        return "nothing to do"
    try:
        return recheck.recheck_run(claim=claim)
    except SoftTimeLimitExceeded:
        recheck.recheck_fail(claim=claim, message=(
            f"The re-check exceeded its time limit of {settings.QUALITY_CHECK_TIME_LIMIT} seconds."))
        return "timed out"


@shared_task(name="shujiao.quality.sweep_rechecks", acks_late=True)
def sweep_rechecks() -> int:
    from exchange.services.recheck import recheck_sweep

    return recheck_sweep()
