"""The seed's two open endpoints, `/ws/echo` and `/ws/json` (PROTOCOL.md, "Endpoints")."""

from __future__ import annotations

from typing import Any

from realtime.frames import ErrorCode
from realtime.websocket import WebSocketConsumer


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
