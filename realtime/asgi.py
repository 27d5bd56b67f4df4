"""
The ASGI application of a site with realtime endpoints (README, "Add it to your
Django site"): HTTP to Django, WebSockets through the origin check to the routes
of every registered feature, anything else refused.
"""

from __future__ import annotations

from typing import Any

from channels.routing import ProtocolTypeRouter, URLRouter

from realtime import registry
from realtime.layers.redis import RedisUnreachable, check_redis
from realtime.limits.addresses import ConnectionsPerAddress
from realtime.limits.origins import OriginCheckMiddleware
from realtime.metrics.connections import Metered
from realtime.routing import unknown_path
from realtime.types import ASGIApp, Receive, Scope, Send


def websocket_application(websocket_urlpatterns: list[Any] | None = None) -> ASGIApp:
    """
    The WebSocket side, every connection counted (realtime/metrics/connections.py): the
    cap per client address, the origin check, then `websocket_urlpatterns` (default:
    every feature's), then 4404.
    """
    patterns = registry.websocket_urlpatterns() if websocket_urlpatterns is None else websocket_urlpatterns
    return Metered(ConnectionsPerAddress(OriginCheckMiddleware(URLRouter([*patterns, unknown_path]))), patterns)


def realtime_application(
    http_application: ASGIApp, *, websocket_urlpatterns: list[Any] | None = None, check_redis_at_start: bool = True
) -> ASGIApp:
    """
    The whole ASGI application. With a Redis channel layer, a server that
    cannot reach Redis stops at once with one line saying so
    (`check_redis_at_start`), rather than failing connection by connection.
    """
    if check_redis_at_start:
        try:
            check_redis()
        except RedisUnreachable as unreachable:
            raise SystemExit(str(unreachable)) from None
    application: ASGIApp = ProtocolTypeRouter(
        {
            "lifespan": lifespan,
            "http": http_application,
            "websocket": websocket_application(websocket_urlpatterns),
        }
    )
    return application


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """uvicorn's lifespan protocol: nothing to start or stop, but say so (daphne never asks)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
