"""When a failed webhook message is tried again.

Exponential backoff with "full-range" jitter: the n-th retry waits a random time between
half and all of ``base × 2^(n-1)``, capped, so a receiver that comes back is not hit by
every sender at the same instant. Messages are given up once the retry window (about
three days) from their first attempt has passed. ``Retry-After`` from the receiver wins
over the computed delay, within the same cap.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# 30 s doubles to the 6 h cap after ~10 failures (4–8.5 h in); the rest of the three days
# is spent at one try every 3–6 h — between 22 and 34 attempts in all.
BASE_SECONDS = 30
CAP_SECONDS = 6 * 3600
WINDOW = timedelta(days=3)


def backoff_seconds(failures: int, rng: random.Random | None = None) -> float:
    """Delay after the ``failures``-th failed attempt (1 = the first failure)."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    ceiling = min(CAP_SECONDS, BASE_SECONDS * 2 ** min(failures - 1, 30))
    return (rng or random).uniform(ceiling / 2, ceiling)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def next_attempt(*, failures: int, now: datetime, window_started: datetime, retry_after: str | None = None,
                 rng: random.Random | None = None) -> datetime | None:
    """When to try again after a failure, or None when the retry window is over (give up)."""
    if now >= window_started + WINDOW:
        return None
    asked = retry_after_seconds(retry_after, now=now)
    delay = min(float(CAP_SECONDS), max(1.0, asked)) if asked is not None else backoff_seconds(failures, rng)
    return min(now + timedelta(seconds=delay), window_started + WINDOW)
