"""The real clock (realtime/clock.py): its timers fire, and hold no copy of the scheduling task's context."""

from __future__ import annotations

import asyncio
import contextvars

from realtime.clock import LoopClock

SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


async def test_timers_of_different_connections_share_one_empty_context_and_fire() -> None:
    clock = LoopClock(asyncio.get_running_loop())
    fired: list[str] = []
    timers = []

    async def connection(name: str) -> None:
        SEEN.set(name)  # what a connection's task holds in its context
        timers.append(clock.call_later(0, lambda: fired.append(SEEN.get())))

    await asyncio.gather(connection("first"), connection("second"))
    await asyncio.sleep(0.01)
    assert fired == ["unset", "unset"]
    first, second = timers
    assert first._context is second._context  # type: ignore[attr-defined]  # asyncio's TimerHandle
    assert len(first._context) == 0  # type: ignore[attr-defined]
