"""Webhook tasks: thin shims over exchange.services.webhook_delivery. Tasks take ids only.

``deliver`` is idempotent (it claims each message with a conditional update and sends
only what is due), so it runs late-acknowledged and a redelivered task is harmless.
Retries are not Celery retries: their time is stored on the message and the sweeper
(beat, every 30 s) publishes ``deliver`` when it comes.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task


def _clock(now: str | None) -> datetime | None:
    """An injected clock (ISO 8601, for tests); None means the real time."""
    return datetime.fromisoformat(now.replace("Z", "+00:00")) if now else None


# BATCH (50) sends × the 15 s timeout = 12.5 min at worst: 20 min bounds one run.
@shared_task(name="shujiao.webhooks.deliver", acks_late=True, soft_time_limit=1200, time_limit=1260)
def deliver_webhooks(endpoint_id: str, now: str | None = None) -> int:
    from exchange.services.webhook_delivery import deliver_endpoint

    return deliver_endpoint(endpoint_id, now=_clock(now))


@shared_task(name="shujiao.webhooks.sweep", acks_late=True)
def sweep_webhooks(now: str | None = None) -> int:
    from exchange.services.webhook_delivery import sweep

    return sweep(now=_clock(now))
