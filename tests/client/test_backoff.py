"""Reconnect delays (realtime/client/backoff.py): exponential, capped, jittered, afresh after a stable connection."""

from __future__ import annotations

import pytest

from realtime.client import backoff_delay
from realtime.client.backoff import Backoff


@pytest.mark.parametrize(
    ("attempt", "jitter", "delay"),
    [(0, 0.0, 0.25), (0, 1.0, 0.5), (3, 0.0, 2.0), (3, 1.0, 4.0), (20, 1.0, 30.0), (20, 0.0, 15.0)],
    ids=["first-least", "first-most", "fourth-least", "fourth-most", "capped-most", "capped-least"],
)
def test_each_delay_is_between_half_and_all_of_its_step(attempt: int, jitter: float, delay: float) -> None:
    assert backoff_delay(attempt, 0.5, 30.0, lambda: jitter) == delay


def test_the_steps_start_afresh_only_after_a_stable_connection() -> None:
    backoff = Backoff(min_delay=1.0, max_delay=100.0, stable_after=10.0)
    for _ in range(3):
        backoff.next_delay()
    backoff.connection_lasted(9.9)
    assert backoff.attempt == 3
    backoff.connection_lasted(10.0)
    assert backoff.attempt == 0
    assert 0.5 <= backoff.next_delay() <= 1.0
