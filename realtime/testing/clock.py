"""A clock that moves only when a test says so (realtime/clock.py)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any

from realtime.hub import hub

# Loop iterations `advance()` gives the work a fired timer started (a dispatch, a send).
SETTLE_ROUNDS = 20


class ManualTimer:
    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """
    The hub's clock for tests: `await clock.advance(seconds)` moves both the
    monotonic and the wall clock, firing due timers in order and letting what
    each one started run before the next.

    The monotonic clock moves only then. The wall clock is the system's plus
    what the test advanced (so tokens issued during the test, by the system
    clock, expire when the test has moved past their `exp`); with `wall=` it
    starts there and moves only with `advance()` too.
    """

    def __init__(self, wall: float | None = None) -> None:
        self._frozen_wall = wall
        self._advanced = 0.0
        self._monotonic = 0.0
        self._timers: list[tuple[float, int, ManualTimer]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self._monotonic

    def wall(self) -> float:
        base = time.time() if self._frozen_wall is None else self._frozen_wall
        return base + self._advanced

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> ManualTimer:
        timer = ManualTimer(self._monotonic + max(delay, 0.0), callback, args)
        heapq.heappush(self._timers, (timer.when, next(self._order), timer))
        return timer

    async def sleep(self, delay: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.call_later(delay, _wake, woken)
        try:
            await woken
        finally:
            timer.cancel()

    def pending(self) -> int:
        """Timers not yet fired nor cancelled."""
        return sum(not timer.cancelled for _, _, timer in self._timers)

    async def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, firing every timer that falls due on the way."""
        target = self._monotonic + seconds
        await _settle()
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._move_to(max(when, self._monotonic))
            timer.callback(*timer.args)
            await _settle()
        self._move_to(target)
        await _settle()

    def _move_to(self, monotonic: float) -> None:
        self._advanced += monotonic - self._monotonic
        self._monotonic = monotonic


class ShiftedTimer:
    __slots__ = ("_clock", "_handle", "args", "callback", "when")

    def __init__(
        self, clock: ShiftedClock, when: float, callback: Callable[..., object], args: tuple[Any, ...]
    ) -> None:
        self._clock = clock
        self._handle: asyncio.Handle | None = None
        self.when = when
        self.callback = callback
        self.args = args

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._clock._timers.discard(self)

    def _arm(self) -> None:
        """(Re)start the loop's timer for what is left until `when` on the clock."""
        if self._handle is not None:
            self._handle.cancel()
        left, loop = self.when - self._clock.monotonic(), self._clock._loop
        # Those due run in the order they are armed (a shift arms them in the order they fall due).
        self._handle = loop.call_soon(self._fire) if left <= 0 else loop.call_later(left, self._fire)
        self._clock._timers.add(self)

    def _fire(self) -> None:
        self._handle = None
        self._clock._timers.discard(self)
        self.callback(*self.args)


class ShiftedClock:
    """
    The real clock, moved on at once when a test says: `shift(seconds)` adds
    to the monotonic clock (and to the wall clock, unless `wall=False`), and
    the timers it moves past fire at once, in order (the others keep what is
    left of their delay). For a process a test drives from outside, a live
    server, where time goes on by itself and nothing could wait on
    `ManualClock.advance()`.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self.offset = 0.0
        self.wall_offset = 0.0
        self._timers: set[ShiftedTimer] = set()

    def monotonic(self) -> float:
        return self._loop.time() + self.offset

    def wall(self) -> float:
        return time.time() + self.wall_offset

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> ShiftedTimer:
        timer = ShiftedTimer(self, self.monotonic() + max(delay, 0.0), callback, args)
        timer._arm()
        return timer

    async def sleep(self, delay: float) -> None:
        woken: asyncio.Future[None] = self._loop.create_future()
        timer = self.call_later(delay, _wake, woken)
        try:
            await woken
        finally:
            timer.cancel()

    def shift(self, seconds: float, *, wall: bool = True) -> None:
        """
        Move time on by `seconds`: the timers now due fire at once, in the order they fall due.
        `wall=False` leaves the wall clock (token expiry) where it is: the heartbeats, the
        patience of sends and the periodic checks move, and no token comes nearer its expiry.
        """
        self.offset += seconds
        if wall:
            self.wall_offset += seconds
        for timer in sorted(self._timers, key=lambda timer: timer.when):
            timer._arm()


def use_clock(clock: Any) -> Any:
    """Make `clock` the clock of the running event loop's hub; returns the clock it replaced."""
    here = hub()
    previous, here.clock = here.clock, clock
    return previous


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _settle() -> None:
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0)
