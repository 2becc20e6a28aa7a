"""The retry schedule: exponential backoff with jitter, the cap, Retry-After, three days."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from workers.webhooks import schedule

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("failures", "ceiling"), [(1, 30), (2, 60), (3, 120), (4, 240), (10, 15360), (11, 21600),
                                                   (40, 21600)])
def test_backoff_doubles_from_30_seconds_up_to_the_6_hour_cap_with_jitter_in_the_upper_half(failures, ceiling):
    rng = random.Random(7)
    delays = [schedule.backoff_seconds(failures, rng) for _ in range(500)]
    assert min(delays) >= ceiling / 2
    assert max(delays) <= ceiling
    # Jittered: spread over the range, not one value.
    assert max(delays) - min(delays) > ceiling * 0.4


def test_backoff_refuses_a_zero_failure_count():
    with pytest.raises(ValueError):
        schedule.backoff_seconds(0)


def test_next_attempt_uses_the_backoff_after_a_failure():
    rng = random.Random(1)
    expected = schedule.backoff_seconds(3, random.Random(1))
    when = schedule.next_attempt(failures=3, now=T0, window_started=T0 - timedelta(minutes=5), rng=rng)
    assert when == T0 + timedelta(seconds=expected)


def test_retry_after_in_seconds_wins_over_the_backoff():
    when = schedule.next_attempt(failures=1, now=T0, window_started=T0, retry_after="120")
    assert when == T0 + timedelta(seconds=120)


def test_retry_after_as_an_http_date_is_read():
    when = schedule.next_attempt(failures=1, now=T0, window_started=T0, retry_after="Tue, 01 Dec 2026 12:10:00 GMT")
    assert when == T0 + timedelta(minutes=10)


def test_retry_after_is_capped_and_an_unreadable_one_falls_back_to_the_backoff():
    capped = schedule.next_attempt(failures=1, now=T0, window_started=T0, retry_after="999999")
    assert capped == T0 + timedelta(seconds=schedule.CAP_SECONDS)
    fallback = schedule.next_attempt(failures=1, now=T0, window_started=T0, retry_after="soon", rng=random.Random(3))
    assert T0 + timedelta(seconds=15) <= fallback <= T0 + timedelta(seconds=30)


def test_the_last_attempt_is_at_the_end_of_the_three_day_window_then_it_gives_up():
    started = T0 - schedule.WINDOW + timedelta(minutes=10)
    last = schedule.next_attempt(failures=30, now=T0, window_started=started)
    assert last == started + schedule.WINDOW
    assert schedule.next_attempt(failures=31, now=last, window_started=started) is None


def test_a_receiver_that_never_answers_gets_22_to_34_attempts_over_three_days():
    class Extreme(random.Random):
        def __init__(self, pick):
            super().__init__(0)
            self.pick = pick

        def uniform(self, a, b):
            return self.pick(a, b)

    def attempts_with(rng) -> tuple[int, datetime]:
        now, failures, attempts = T0, 0, 1
        while True:
            failures += 1
            later = schedule.next_attempt(failures=failures, now=now, window_started=T0, rng=rng)
            if later is None:
                return attempts, now
            now, attempts = later, attempts + 1

    assert attempts_with(Extreme(max)) == (22, T0 + schedule.WINDOW)  # every wait the longest
    assert attempts_with(Extreme(min)) == (34, T0 + schedule.WINDOW)  # every wait the shortest
    assert 22 <= attempts_with(random.Random(11))[0] <= 34
