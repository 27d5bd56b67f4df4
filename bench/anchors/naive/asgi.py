"""The naive port's ASGI application (anchor B), served by daphne with bench.settings.naive."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings.naive")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.anchors.naive import consumers  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter(
            [
                path("ws/echo", consumers.EchoConsumer.as_asgi()),
                path("ws/json", consumers.JsonConsumer.as_asgi()),
                path("ws/notifications", consumers.NotificationsConsumer.as_asgi()),
                path("ws/live-comments/<int:post_id>", consumers.LiveCommentsConsumer.as_asgi()),
            ]
        ),
    }
)
