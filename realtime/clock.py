"""
Time, as the library reads it: one clock per event loop, kept by the hub.

Heartbeats, token deadlines, rate limits and periodic checks all ask the
hub's clock, never `time` or the loop directly, so a test can put a
`realtime.testing.ManualClock` in its place and move time on at will instead
of waiting it out.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from typing import Any, Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: intervals, rates."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch: token expiry."""
        ...

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        """Run `callback(*args)` on the event loop in `delay` seconds (at once if `delay` <= 0)."""
        ...

    async def sleep(self, delay: float) -> None: ...


class LoopClock:
    """The real clock: the event loop's for intervals, the system's for the wall."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # The context timers' callbacks run in: one for the loop, empty. asyncio would copy the caller's for
        # every timer (a heartbeat's, a deadline's: a Context held by each connection), and a callback here
        # only hands an event to its consumer, whose task gets a context of its own.
        self._timers_context = contextvars.Context()

    def monotonic(self) -> float:
        return self._loop.time()

    def wall(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        return self._loop.call_later(max(delay, 0.0), callback, *args, context=self._timers_context)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)
