"""
The ASGI application the over-the-wire tests run on: this repository's
(project/asgi.py, with its server integration and routes) plus consumers that
only tests need, behind the same origin check and router.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import jwt.api_jwt
from django.utils import timezone

from project.asgi import application as project_application
from realtime import registry
from realtime.asgi import realtime_application
from realtime.consumers import WebSocketConsumer
from realtime.hub import hub
from realtime.routing import seed_urlpatterns, websocket_route
from realtime.testing.clock import ShiftedClock, use_clock


class CloseWithCode(WebSocketConsumer):
    """Closes with the code the client sends as text."""

    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.close(code=int(text_data or "1000"))


realtime = realtime_application(
    project_application,
    websocket_urlpatterns=[
        websocket_route(r"^test/close$", CloseWithCode.as_asgi()),
        *seed_urlpatterns,
        *registry.websocket_urlpatterns(),
    ],
    check_redis_at_start=False,
)


# POST /test/clock?shift=<seconds>: this process's time moves on at once, for everything in it that
# reads the time: the hub's clock (heartbeats, token deadlines, periodic checks), Django's
# `timezone.now` (which issues tokens) and PyJWT's (which checks their `iat`). A test sees a token's
# lifetime pass without waiting it out. With `&wall=0` only the hub's monotonic clock moves (a
# heartbeat's patience passes, no token comes nearer its expiry: for a server that other tests share).
# The first call puts a ShiftedClock in place of the real one: what a connection opened before it
# started on the real clock stays there.
CLOCK_PATH = "/test/clock"


class ShiftedDatetime(datetime):
    """PyJWT's `datetime`, whose `now()` reads the process's ShiftedClock."""

    clock: ShiftedClock | None = None

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        wall = time.time() if cls.clock is None else cls.clock.wall()
        return datetime.fromtimestamp(wall, tz)


def shifted_now() -> datetime:
    """Django's `timezone.now` on the process's ShiftedClock."""
    return ShiftedDatetime.now(UTC)


def shift_clock(seconds: float, *, wall: bool = True) -> float:
    here = hub()
    clock = here.clock
    if not isinstance(clock, ShiftedClock):
        clock = ShiftedDatetime.clock = ShiftedClock()
        use_clock(clock)
        timezone.now = shifted_now
        jwt.api_jwt.datetime = ShiftedDatetime  # type: ignore[attr-defined]
    clock.shift(seconds, wall=wall)
    return clock.offset


async def clock_endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    query = parse_qs(scope["query_string"].decode())
    offset = shift_clock(float(query.get("shift", ["0"])[0]), wall=query.get("wall", ["1"])[0] != "0")
    body = json.dumps({"offset": offset}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == CLOCK_PATH and scope["method"] == "POST":
        await clock_endpoint(scope, receive, send)
    else:
        await realtime(scope, receive, send)
