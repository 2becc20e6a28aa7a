"""Periodic trading tasks: thin shims over exchange.services.trading."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="shujiao.trading.expire_requests", acks_late=True)
def expire_access_requests() -> int:
    """Expire pending access requests past ACCESS_REQUEST_EXPIRY_DAYS (idempotent: only pending ones move)."""
    from exchange.services.trading import access_requests_expire

    return access_requests_expire()
