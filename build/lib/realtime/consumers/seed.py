"""
The seed's two open endpoints, `/ws/echo` and `/ws/json` (PROTOCOL.md, "Endpoints").

They need no token and no channel layer. A host serves them only if it routes
them (`realtime.routing.seed_urlpatterns`); this repository's site does.
"""

from __future__ import annotations

from typing import Any

from realtime.consumers.base import WebSocketConsumer
from realtime.frames import ErrorCode


class EchoConsumer(WebSocketConsumer):
    """`/ws/echo`: a text frame `T` is answered with the text frame `Echo: T`."""

    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            await self.send_error(ErrorCode.TEXT_REQUIRED, "This endpoint echoes text frames: send text, not binary.")
            return
        await self.send_text(f"Echo: {text_data}")


class JsonConsumer(WebSocketConsumer):
    """`/ws/json`: a JSON value `V` is answered with `{"received": V, "status": "ok"}`."""

    channel_layer_alias = None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"received": content, "status": "ok"})
