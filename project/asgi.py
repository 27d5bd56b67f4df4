"""
The ASGI entry point: HTTP to Django, WebSockets through the origin check to
the URL router. Served by daphne (`make run`), or by any ASGI server (uvicorn:
README, "Performance").
"""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# Set up Django before anything imports models.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from comments.routing import websocket_urlpatterns as comments_urlpatterns  # noqa: E402
from realtime.channel_layer import RedisUnreachable, check_redis  # noqa: E402
from realtime.origin import OriginCheckMiddleware  # noqa: E402
from realtime.routing import unknown_path  # noqa: E402
from realtime.routing import websocket_urlpatterns as realtime_urlpatterns  # noqa: E402

try:
    check_redis()
except RedisUnreachable as unreachable:
    raise SystemExit(str(unreachable)) from None

http_application = ASGIStaticFilesHandler(django_application) if settings.SERVE_STATIC else django_application


async def lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """uvicorn's lifespan protocol: nothing to start or stop, but say so (daphne never asks)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {
        "lifespan": lifespan,
        "http": http_application,
        "websocket": OriginCheckMiddleware(URLRouter([*realtime_urlpatterns, *comments_urlpatterns, unknown_path])),
    }
)
