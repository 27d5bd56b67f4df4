"""
An application whose accept always races autobahn's opening-handshake timeout (daphne's
`--websocket_connect_timeout`): the consumer of `test/accept-at-drop` accepts the moment autobahn
drops its handshake. Deterministic: the wrapper below wakes the consumer right after the drop, and
asyncio runs that wake-up one loop turn later, before the `connectionLost` that Twisted's
`abortConnection` scheduled with `callLater(0)` (ready callbacks run before timers come due).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from daphne.ws_protocol import WebSocketProtocol

from project.asgi import application as project_application
from realtime.asgi import realtime_application
from realtime.consumers import WebSocketConsumer
from realtime.routing import websocket_route

# Client port -> set when autobahn drops that connection's handshake.
_dropped: dict[int, asyncio.Event] = {}


def _event(port: int) -> asyncio.Event:
    return _dropped.setdefault(port, asyncio.Event())


class AcceptAtTheDrop(WebSocketConsumer):
    channel_layer_alias = None

    async def connect(self) -> None:
        port = self.scope["client"][1]
        await _event(port).wait()
        _dropped.pop(port, None)
        await self.accept()


_timed_out = WebSocketProtocol.onOpenHandshakeTimeout


def on_open_handshake_timeout(self: Any) -> None:
    _timed_out(self)
    _event(self.client_addr[1]).set()


WebSocketProtocol.onOpenHandshakeTimeout = on_open_handshake_timeout

application = realtime_application(
    project_application,
    websocket_urlpatterns=[websocket_route(r"^test/accept-at-drop$", AcceptAtTheDrop.as_asgi())],
    check_redis_at_start=False,
)
