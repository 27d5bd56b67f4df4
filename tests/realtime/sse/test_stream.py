"""
One SSE stream (realtime/sse/stream.py): a request whose client leaves ends its application, whether it
leaves while the application decides (the view's `start()` cancelled) or before the server reads the
response at all; its first event has a `retry:` field only when `SSE_RETRY` says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, cast

import pytest

from realtime.sse import stream as streams
from realtime.sse.stream import Stream
from realtime.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from realtime.testing.fixtures import RealtimeOverrides


class Application:
    """Accepts when told to, then records what it receives until the disconnect."""

    def __init__(self) -> None:
        self.accept = asyncio.Event()
        self.received: list[Message] = []
        self.ended = asyncio.Event()
        self.connected = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.received.append(await receive())
        self.connected.set()
        await self.accept.wait()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] != "websocket.disconnect":
            self.received.append(message)
        self.received.append(message)
        self.ended.set()


SCOPE: Scope = {"type": "websocket", "path": "/realtime/sse", "headers": []}


async def test_a_client_that_leaves_while_the_stream_opens_ends_its_application() -> None:
    application = Application()
    opened = Stream(SCOPE, application, user_id=1)
    starting = asyncio.ensure_future(opened.start())
    await application.connected.wait()  # the application runs, deciding
    starting.cancel()  # the view's task, as Django cancels it when the client leaves
    application.accept.set()
    with pytest.raises(asyncio.CancelledError):
        await starting
    await asyncio.wait_for(application.ended.wait(), 1)
    assert [message["type"] for message in application.received] == ["websocket.connect", "websocket.disconnect"]


async def test_an_accepted_stream_whose_response_is_never_read_ends_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "START_WITHIN", 0.01)
    application = Application()
    application.accept.set()
    opened = Stream(SCOPE, application, user_id=1)
    assert await opened.start() is None
    await asyncio.wait_for(application.ended.wait(), 1)  # nobody iterated `events()`
    assert application.received[-1]["type"] == "websocket.disconnect"


async def first_event(application: Application) -> bytes:
    opened = Stream(SCOPE, application, user_id=1)
    assert await opened.start() is None
    events = cast(AsyncGenerator[bytes, None], opened.events())  # an async generator: closed as the server does
    first = await anext(events)
    await events.aclose()  # the client leaves
    await asyncio.wait_for(application.ended.wait(), 1)
    return first


async def test_the_first_event_sets_eventsources_reconnect_delay_only_when_sse_retry_says_so(
    realtime_settings: RealtimeOverrides,
) -> None:
    application = Application()
    application.accept.set()
    unset = await first_event(application)
    assert unset.startswith(b'data: {"type":"connected","stream":"')  # the browser's own delay
    assert b"retry:" not in unset

    realtime_settings.SSE_RETRY = 0.25
    application = Application()
    application.accept.set()
    first = await first_event(application)
    assert first.startswith(b'retry: 250\ndata: {"type":"connected","stream":"'), first
    assert first.count(b"\n") == 3  # one event: its retry and data lines, then the blank line that ends it
    assert first.endswith(b"\n\n")
