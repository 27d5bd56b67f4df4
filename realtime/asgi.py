"""
The ASGI application of a site with realtime endpoints (docs/tutorial.md):
HTTP to Django (and `STATIC_URL` to the static files, unless `SERVE_STATIC` is
off), WebSockets through the origin check to the routes of every registered
feature, anything else refused.
"""

from __future__ import annotations

from typing import Any

from channels.routing import ProtocolTypeRouter, URLRouter
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from realtime import lifecycle, registry
from realtime.conf import realtime_settings
from realtime.disconnects import quiet_when_gone
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
            "http": quiet_when_gone(with_static_files(http_application)),
            "websocket": websocket_application(websocket_urlpatterns),
        }
    )
    return application


def with_static_files(http_application: ASGIApp) -> ASGIApp:
    """
    `http_application`, serving `STATIC_URL` itself (Django's `ASGIStaticFilesHandler`:
    the files of every app and of STATICFILES_DIRS, found as `collectstatic` finds
    them), so that an ASGI server alone serves the JavaScript client and the admin's
    styles. Off (`SERVE_STATIC`) where a proxy or a CDN serves `collectstatic`'s output.
    """
    if not (realtime_settings.SERVE_STATIC and apps.is_installed("django.contrib.staticfiles") and settings.STATIC_URL):
        return http_application
    served: ASGIApp = ASGIStaticFilesHandler(http_application)  # type: ignore[arg-type]  # any ASGI app; stubs say ASGIHandler
    return served


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """
    The ASGI lifespan (uvicorn, hypercorn, granian; daphne never asks): at startup, SIGTERM
    is taken so that every connection gets its 4012 before the server stops (realtime/lifecycle.py).
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            lifecycle.take_sigterm()
            lifecycle.watch_shared_stop()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
