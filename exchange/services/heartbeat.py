"""A claim's heartbeat, refreshed from a background thread while the work runs.

Progress callbacks refresh heartbeats too, but a phase without progress (opening a large
workbook, uploading a package to slow storage) must not look like a dead worker. The
thread beats every ``interval`` seconds as long as the process lives, so the stale
threshold (``*_STALE_SECONDS``) can be a few intervals and a killed worker's claim is taken
over within seconds (see docs/architecture.md, Reliability).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)


class HeartbeatThread:
    """``with HeartbeatThread(touch, interval):`` calls ``touch()`` every ``interval`` seconds."""

    def __init__(self, touch: Callable[[], object], interval: float, *, name: str = "heartbeat"):
        self._touch, self._interval = touch, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                try:
                    self._touch()
                except Exception:  # noqa: BLE001 — a missed beat is logged; the next one may succeed
                    logger.warning("heartbeat failed", exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    def __enter__(self) -> HeartbeatThread:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=max(self._interval, 5.0))
