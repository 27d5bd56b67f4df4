"""
What a host site's tests need to test its realtime endpoints (README, "Testing
your consumers").

    from realtime.testing import RealtimeCommunicator

    async def test_my_feed(user):
        async with RealtimeCommunicator("/ws/my-feed", user=user) as ws:
            await ws.send_frame({"type": "ping"})
            assert await ws.receive_frame() == {"type": "pong"}

`RealtimeCommunicator` is Channels' `WebsocketCommunicator` connected as a
given user (it mints the token), on the site's ASGI application by default.
`ManualClock` replaces the hub's clock so that heartbeats, token expiry and
periodic checks happen when the test moves time, not after real seconds;
`ShiftedClock` is the real clock that a test moves on at once (a live server's).
`topic_kind_registered(kind)` serves a topic kind on `/ws/` for one `with` block.
With pytest, `pytest_plugins = ["realtime.testing.fixtures"]` gives fixtures
(realtime/testing/fixtures.py).
"""

from realtime.testing.clock import ManualClock, ShiftedClock, use_clock
from realtime.testing.communicator import RealtimeCommunicator
from realtime.testing.topics import topic_kind_registered

__all__ = ["ManualClock", "RealtimeCommunicator", "ShiftedClock", "topic_kind_registered", "use_clock"]
