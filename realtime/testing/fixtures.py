"""
pytest fixtures for a host site's realtime tests: `pytest_plugins =
["realtime.testing.fixtures"]` in its `conftest.py` (pytest-django and
pytest-asyncio assumed, as for any async Django test).

- `realtime_isolation`: a fresh channel layer per test, bound to its event
  loop, and no database connection left open by the consumers' thread;
- `realtime_clock`: a `ManualClock` in place of the hub's clock;
- `realtime_settings`: `realtime_settings.HEARTBEAT_INTERVAL = 5` overrides one
  `REALTIME` key for the test;
- `connect_as`: `ws = await connect_as(user, "/ws/notifications")`, connected
  (or `NotAccepted`), disconnected after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from channels.layers import channel_layers
from django.db import connections

from realtime.db import database_sync_to_async
from realtime.hub import hub
from realtime.limits import connections as connection_slots
from realtime.presence import tracker as presence
from realtime.testing.clock import ManualClock, use_clock
from realtime.testing.communicator import RealtimeCommunicator

Connect = Callable[..., Awaitable[RealtimeCommunicator]]


@pytest.fixture
async def realtime_isolation() -> AsyncIterator[None]:
    channel_layers.backends = {}
    yield
    for layer in channel_layers.backends.values():
        flush = getattr(layer, "flush", None)
        if flush is not None:
            await flush()
    channel_layers.backends = {}
    await connection_slots.forget()
    await presence.forget(hub())
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
async def realtime_clock() -> AsyncIterator[ManualClock]:
    clock = ManualClock()
    previous = use_clock(clock)
    yield clock
    use_clock(previous)


class RealtimeOverrides:
    """Sets keys of `REALTIME` through pytest-django's `settings` fixture (undone after the test)."""

    def __init__(self, settings: Any) -> None:
        object.__setattr__(self, "_settings", settings)

    def __setattr__(self, name: str, value: Any) -> None:
        settings = object.__getattribute__(self, "_settings")
        settings.REALTIME = {**getattr(settings, "REALTIME", {}), name: value}


@pytest.fixture
def realtime_settings(settings: Any) -> RealtimeOverrides:
    return RealtimeOverrides(settings)


@pytest.fixture
async def connect_as(realtime_isolation: None) -> AsyncIterator[Connect]:
    opened: list[RealtimeCommunicator] = []

    async def connect(user: Any, path: str, **options: Any) -> RealtimeCommunicator:
        communicator = RealtimeCommunicator(path, user=user, **options)
        opened.append(communicator)
        return await communicator.__aenter__()

    yield connect
    for communicator in opened:
        await communicator.disconnect()
