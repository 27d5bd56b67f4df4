"""
WebSocket routes the library offers: the seed's open endpoints, the refusal of
any other path, and the wrapper of a token endpoint.

Features route their own endpoints (`comments.routing`, `notifications.routing`)
and register the routes (realtime/registry.py); `realtime.asgi` serves them.
"""

from __future__ import annotations

from typing import Any

from django.urls import re_path

from realtime.auth.middleware import TokenAuthMiddleware
from realtime.close_codes import CLOSE_NOT_FOUND
from realtime.consumers.seed import EchoConsumer, JsonConsumer
from realtime.handshake import refuse
from realtime.types import ASGIApp, Receive, Scope, Send


def token_endpoint(consumer: Any) -> ASGIApp:
    """`consumer` (a TokenConsumer class) behind the token middleware: refused before accept without a valid token."""
    application: ASGIApp = TokenAuthMiddleware(consumer.as_asgi())
    return application


async def refuse_unknown_path(scope: Scope, receive: Receive, send: Send) -> None:
    await refuse(receive, send, CLOSE_NOT_FOUND)


# The seed's open endpoints: no token, no channel layer. Not served unless routed.
seed_urlpatterns = [
    re_path(r"^ws/echo/?$", EchoConsumer.as_asgi()),
    re_path(r"^ws/json/?$", JsonConsumer.as_asgi()),
]

# Last in the router: any other path is refused before accept.
unknown_path = re_path(r"", refuse_unknown_path)
