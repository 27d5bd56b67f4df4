"""realtime.testing: what a host site's tests use (a communicator connected as a user, a manual clock, fixtures)."""

from __future__ import annotations

from typing import Any

import pytest

from realtime.testing import ManualClock, RealtimeCommunicator
from realtime.testing.communicator import NotAccepted

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_communicator_connects_as_the_user_it_is_given(user: Any) -> None:
    async with RealtimeCommunicator("/ws/notifications", user=user) as ws:
        await ws.send_frame({"type": "ping"})
        assert await ws.receive_frame() == {"type": "pong"}


async def test_without_a_user_a_token_endpoint_refuses_it() -> None:
    with pytest.raises(NotAccepted) as refused:
        async with RealtimeCommunicator("/ws/notifications", user=None):
            pass
    assert refused.value.code == 1008


async def test_connect_as_gives_a_connected_communicator(
    connect_as: Any, user: Any, realtime_clock: ManualClock
) -> None:
    ws = await connect_as(user, "/ws/notifications")
    await realtime_clock.advance(30)
    assert await ws.receive_frame() == {"type": "ping"}
    await realtime_clock.advance(10)
    assert await ws.receive_close() == 4408


async def test_the_manual_clock_fires_timers_in_order_and_moves_both_clocks() -> None:
    clock = ManualClock(wall=1000.0)
    fired: list[tuple[str, float, float]] = []
    clock.call_later(2, lambda: fired.append(("second", clock.monotonic(), clock.wall())))
    clock.call_later(1, lambda: fired.append(("first", clock.monotonic(), clock.wall())))
    clock.call_later(5, lambda: fired.append(("later", clock.monotonic(), clock.wall())))
    cancelled = clock.call_later(1.5, lambda: fired.append(("cancelled", 0, 0)))
    cancelled.cancel()
    await clock.advance(3)
    assert fired == [("first", 1.0, 1001.0), ("second", 2.0, 1002.0)]
    assert (clock.monotonic(), clock.wall(), clock.pending()) == (3.0, 1003.0, 1)
