"""The background heartbeat beats while the work runs (even with no progress) and stops with it."""

from exchange.services.heartbeat import HeartbeatThread
from tests.conftest import wait_until


def test_beats_while_inside_and_stops_after():
    beats: list[int] = []
    with HeartbeatThread(lambda: beats.append(1), 0.02) as hb:
        wait_until(lambda: len(beats) >= 3, timeout=5, message="three beats")
    assert not hb._thread.is_alive()  # joined: no beat can follow


def test_a_failing_beat_does_not_stop_the_next_ones():
    calls: list[int] = []

    def touch():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database briefly unavailable")

    with HeartbeatThread(touch, 0.02):
        wait_until(lambda: len(calls) >= 3, timeout=5, message="beats after a failed one")
