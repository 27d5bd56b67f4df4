"""
pytest fixtures for a host site's realtime tests (docs/how-to/testing.md).

The package registers this module with pytest (pyproject.toml, `pytest11`), so
a host's tests get the fixtures without a `pytest_plugins` line; they need
pytest-django and pytest-asyncio, the package's `testing` extra.

- `realtime_isolation`: a fresh channel layer per test, bound to its event
  loop, and no database connection left open by the consumers' thread;
- `realtime_clock`: a `ManualClock` in place of the hub's clock;
- `realtime_settings`: `realtime_settings.HEARTBEAT_INTERVAL = 5` overrides one
  `REALTIME` key for the test;
- `connect_as`: `ws = await connect_as(user, "/ws/notifications")`, connected
  (or `NotAccepted`), disconnected after the test.

pytest imports this module in every run of an environment where the package
is installed, whatever the project and whether or not Django is set up: at
import it needs pytest alone, and the fixtures import the library when they run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import pytest

if TYPE_CHECKING:
    from realtime.testing.clock import ManualClock
    from realtime.testing.communicator import RealtimeCommunicator

Connect = Callable[..., Awaitable["RealtimeCommunicator"]]
Params = ParamSpec("Params")
Result = TypeVar("Result", bound=AsyncIterator[Any])


def async_fixture(function: Callable[Params, Result]) -> Callable[Params, Result]:
    """
    An async fixture that pytest-asyncio runs in its strict mode (its default, so
    a host's) as in its auto mode, on the event loop of the test that asks for it:
    `loop_scope="function"`, the loop of each test by pytest-asyncio's default, so
    that the channel layer and the connections of the test live on the test's
    loop whatever the host's `asyncio_default_fixture_loop_scope` says.

    That declaration does not silence pytest-asyncio's warning that
    `asyncio_default_fixture_loop_scope` is unset: it warns at every start while
    the host's configuration leaves it unset, whoever's fixtures run. The host
    sets it (the testing page's pytest.ini does); a plugin that supplied it would
    move the host's own async fixtures to another event loop.

    Without pytest-asyncio no async test can run at all; the fixture is then
    pytest's plain one, and pytest names it if a test asks for it.
    """
    try:
        import pytest_asyncio
    except ImportError:
        return pytest.fixture(function)
    return pytest_asyncio.fixture(function, loop_scope="function")


@async_fixture
async def realtime_isolation() -> AsyncIterator[None]:
    from channels.layers import channel_layers
    from django.db import connections

    from realtime.db import database_sync_to_async
    from realtime.hub import hub
    from realtime.limits import connections as connection_slots
    from realtime.presence import tracker as presence

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


@async_fixture
async def realtime_clock() -> AsyncIterator[ManualClock]:
    from realtime.testing.clock import ManualClock, use_clock

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


@async_fixture
async def connect_as(realtime_isolation: None) -> AsyncIterator[Connect]:
    from realtime.testing.communicator import RealtimeCommunicator

    opened: list[RealtimeCommunicator] = []

    async def connect(user: Any, path: str, **options: Any) -> RealtimeCommunicator:
        communicator = RealtimeCommunicator(path, user=user, **options)
        opened.append(communicator)
        return await communicator.__aenter__()

    yield connect
    for communicator in opened:
        await communicator.disconnect()
