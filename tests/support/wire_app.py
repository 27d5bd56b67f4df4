"""
The ASGI application the over-the-wire tests run on: this repository's
(project/asgi.py, with its server integration and routes) plus consumers that
only tests need, behind the same origin check and router.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from project.asgi import application as project_application
from realtime import registry
from realtime.asgi import realtime_application
from realtime.consumers import WebSocketConsumer
from realtime.routing import seed_urlpatterns, websocket_route


class CloseWithCode(WebSocketConsumer):
    """Closes with the code the client sends as text."""

    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.close(code=int(text_data or "1000"))


application = realtime_application(
    project_application,
    websocket_urlpatterns=[
        websocket_route(r"^test/close$", CloseWithCode.as_asgi()),
        *seed_urlpatterns,
        *registry.websocket_urlpatterns(),
    ],
    check_redis_at_start=False,
)
