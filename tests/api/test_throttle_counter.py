"""The throttles count with two integers per bucket (sliding-window counter), whatever the rate."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIRequestFactory

from exchange.api.throttling import AnonymousIpRateThrottle


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def throttle(settings):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "10/min"}}
    cache.clear()
    clock = Clock(600.0)  # the start of a one-minute window
    request = Request(APIRequestFactory().get("/api/v1/catalog/", REMOTE_ADDR="203.0.113.9"))
    request.user = AnonymousUser()

    def call() -> tuple[bool, float | None]:
        t = AnonymousIpRateThrottle()
        t.timer = clock
        allowed = t.allow_request(request, None)
        return allowed, None if allowed else t.wait()

    return clock, call


def test_the_limit_holds_within_a_window_and_retry_after_is_positive(throttle):
    clock, call = throttle
    results = [call() for _ in range(11)]

    assert [ok for ok, _ in results] == [True] * 10 + [False]
    assert results[-1][1] >= 1
    # One integer for the window (600 s // 60 = window 10), not a log of call times; a refused call is not counted.
    assert cache.get("throttle_anon_203.0.113.9:10") == 10


def test_crossing_a_window_boundary_never_lets_a_burst_through(throttle):
    clock, call = throttle
    clock.now = 600 + 59.9
    assert all(call()[0] for _ in range(10))
    clock.now = 660.05  # the next window: the previous one still overlaps ~99.9 % of the last minute
    assert call()[0] is False
    # Half a minute later half of the previous window's calls have aged out: 5 more fit, not 10.
    clock.now = 660 + 30
    assert [call()[0] for _ in range(6)] == [True] * 5 + [False]


def test_a_full_minute_later_the_bucket_is_open_again(throttle):
    clock, call = throttle
    assert all(call()[0] for _ in range(10))
    denied, wait = call()
    assert denied is False and 0 < wait <= 120
    clock.now += wait + 0.01
    assert call()[0] is True
