"""Delivery tasks: thin shims over exchange.services.delivery. Tasks take ids only.

``build`` is idempotent (the service claims the row with a conditional update and stores
only while holding the claim), so it runs late-acknowledged and a redelivered message
is harmless.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings


@shared_task(name="shujiao.delivery.build", bind=True, acks_late=True, max_retries=None,
             soft_time_limit=settings.DELIVERY_BUILD_TIME_LIMIT, time_limit=settings.DELIVERY_BUILD_TIME_LIMIT + 60)
def build_delivery(self, delivery_id: str) -> str:
    from exchange.services import delivery as svc

    try:
        claim = svc.delivery_claim(delivery_id=delivery_id)
    except svc.ClaimBusy:
        # Another attempt is live (or died moments ago): look again once its claim could be stale.
        raise self.retry(countdown=settings.DELIVERY_STALE_SECONDS + 1) from None
    if claim is None:
        return "nothing to do"
    try:
        ready = svc.delivery_build(claim=claim)
    except SoftTimeLimitExceeded:
        svc.delivery_release(claim=claim, error=(
            f"The build exceeded its time limit of {settings.DELIVERY_BUILD_TIME_LIMIT} seconds."))
        raise self.retry(countdown=settings.DELIVERY_RETRY_SECONDS) from None
    except svc.TransientBuildError:
        # The claim was released; the next attempt counts towards DELIVERY_MAX_ATTEMPTS.
        raise self.retry(countdown=settings.DELIVERY_RETRY_SECONDS) from None
    return "ready" if ready else "not stored"


@shared_task(name="shujiao.delivery.sweep", acks_late=True)
def sweep_deliveries() -> int:
    from exchange.services.delivery import delivery_sweep

    return delivery_sweep()


@shared_task(name="shujiao.delivery.expire", acks_late=True)
def expire_deliveries() -> int:
    from exchange.services.delivery import deliveries_expire

    return deliveries_expire()


@shared_task(name="shujiao.delivery.purge_packages", acks_late=True)
def purge_delivery_packages() -> int:
    from exchange.services.delivery_storage import delivery_packages_purge

    return delivery_packages_purge()
