"""Enqueueing worker tasks after the transaction that needs them commits.

A broker that is down must not lose work or fail the user's request: the row that asks
for the work is already committed in a state a periodic sweeper picks up again
(e.g. a version still ``uploaded``), so a failed publish is logged, not raised.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

# Publishing gives up quickly: the sweeper, not the web request, is the retry mechanism.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def send_task_now(name: str, *args: str) -> bool:
    """Publish a task by name; False (and a log line) when the broker cannot be reached."""
    from marketplace.celery import app

    try:
        app.send_task(name, args=list(args), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:  # noqa: BLE001 — any broker failure; the sweeper will re-enqueue
        logger.exception("could not publish %s%s; the sweeper will retry", name, args)
        return False
    return True


def enqueue_on_commit(name: str, *args: str) -> None:
    """Publish ``name(*args)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send_task_now(name, *args))
