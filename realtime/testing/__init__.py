"""
What a host site's tests need to test its realtime endpoints (docs/how-to/testing.md).

    from realtime.testing import RealtimeCommunicator

    async def test_notifications_answer_a_ping(user):
        async with RealtimeCommunicator("/ws/notifications", user=user) as ws:
            await ws.send_frame({"type": "ping"})
            assert await ws.receive_frame() == {"type": "pong"}

`RealtimeCommunicator` is Channels' `WebsocketCommunicator` connected as a
given user (it mints the token), on the site's ASGI application by default;
`NotAccepted` is what it raises when the server refuses the connection.
`ManualClock` replaces the hub's clock so that heartbeats, token expiry and
periodic checks happen when the test moves time, not after real seconds;
`ShiftedClock` is the real clock that a test moves on at once (a live server's).
`topic_kind_registered(kind)` serves a topic kind on `/ws/` for one `with` block.
The pytest fixtures (realtime/testing/fixtures.py) come with the package: it
registers them with pytest itself (pyproject.toml, `pytest11`).

Each name is imported from its module when it is first asked for: pytest
imports the fixtures module of this package in every run of an environment
where the package is installed, before Django is set up, and these modules
need Django's settings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime.testing.clock import ManualClock, ShiftedClock, use_clock
    from realtime.testing.communicator import NotAccepted, RealtimeCommunicator
    from realtime.testing.topics import topic_kind_registered

__all__ = [
    "ManualClock",
    "NotAccepted",
    "RealtimeCommunicator",
    "ShiftedClock",
    "topic_kind_registered",
    "use_clock",
]

# The module each name of `__all__` lives in.
HOMES = {
    "ManualClock": "realtime.testing.clock",
    "ShiftedClock": "realtime.testing.clock",
    "use_clock": "realtime.testing.clock",
    "NotAccepted": "realtime.testing.communicator",
    "RealtimeCommunicator": "realtime.testing.communicator",
    "topic_kind_registered": "realtime.testing.topics",
}


def __getattr__(name: str) -> object:
    if name not in HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(HOMES[name]), name)
