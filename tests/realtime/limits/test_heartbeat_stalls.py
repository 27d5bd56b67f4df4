"""
The heartbeat's deadline when this process was stalled (realtime/limits/heartbeat.py): a deadline whose timer
fires late looks once more before the close, so that a pong still waiting in the server is read first; one on
time closes at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime.limits.heartbeat import LATE_BY, PING_DUE, RECHECK_DELAY, TIMED_OUT, Heartbeat
from realtime.types import Message

INTERVAL, TIMEOUT = 30.0, 10.0


class Clock:
    """Time moves when the test says; timers are kept, fired by the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Callable[..., object], tuple[Any, ...]]] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Any:
        self.timers.append((self.now + delay, callback, args))
        return self

    def cancel(self) -> None:
        pass

    async def sleep(self, delay: float) -> None:
        self.now += delay

    def fire_next(self, *, at: float) -> float:
        """Fire the next timer at `at` (its due time or later, as a stalled loop would); returns when it was due."""
        due, callback, args = self.timers.pop(0)
        self.now = at
        callback(*args)
        return due


class Host:
    def __init__(self) -> None:
        self.last_client_message_at = 0.0
        self.waiting_for_client = True  # the reader has read all the server gave it
        self.events: list[Message] = []

    def handle_local_event(self, event: Message) -> None:
        self.events.append(event)


def pinged() -> tuple[Clock, Host, Heartbeat]:
    clock, host = Clock(), Host()
    heartbeat = Heartbeat(host, clock, interval=INTERVAL, timeout=TIMEOUT)
    heartbeat.start()
    clock.fire_next(at=INTERVAL)
    heartbeat.ping_sent()  # as the consumer does once the ping went out
    return clock, host, heartbeat


def test_a_deadline_on_time_without_an_answer_closes_at_once() -> None:
    clock, host, _ = pinged()
    due = clock.fire_next(at=INTERVAL + TIMEOUT)
    assert (due, host.events) == (INTERVAL + TIMEOUT, [PING_DUE, TIMED_OUT])


def test_a_deadline_fired_late_reads_what_waits_before_it_closes() -> None:
    clock, host, _ = pinged()
    clock.fire_next(at=INTERVAL + TIMEOUT + LATE_BY + 5)  # the process was stalled past the deadline
    assert host.events == [PING_DUE]  # not closed: one more look
    host.last_client_message_at = clock.now + 0.01  # the pong that waited in the server, read now
    clock.fire_next(at=clock.now + RECHECK_DELAY)
    assert host.events == [PING_DUE]
    assert [due for due, _, _ in clock.timers] == [INTERVAL + INTERVAL]  # the next ping, on its schedule


def test_a_client_still_silent_after_the_second_look_is_closed() -> None:
    clock, host, _ = pinged()
    clock.fire_next(at=INTERVAL + TIMEOUT + LATE_BY + 5)
    clock.fire_next(at=clock.now + RECHECK_DELAY + LATE_BY + 5)  # late again: no third look
    assert host.events == [PING_DUE, TIMED_OUT]
