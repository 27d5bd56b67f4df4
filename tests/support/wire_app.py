"""
An ASGI application for wire tests of WebSocketConsumer itself: the project's
application plus consumers that only tests need.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from project.asgi import application as project_application
from realtime.consumers import WebSocketConsumer


class CloseWithCode(WebSocketConsumer):
    """Closes with the code the client sends as text."""

    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.close(code=int(text_data or "1000"))


application = ProtocolTypeRouter(
    {
        "http": project_application,
        "websocket": URLRouter([path("test/close", CloseWithCode.as_asgi())]),
    }
)
