"""
WebSocket routes the library offers: the seed's open endpoints, the refusal of
any other path, and the wrapper of a token endpoint.

Features route their own endpoints (`comments.routing`, `notifications.routing`)
and register the routes (realtime/registry.py); `realtime.asgi` serves them.
"""

from __future__ import annotations

from typing import Any, cast

from django.urls import URLPattern, re_path

from realtime.auth.middleware import TokenAuthMiddleware
from realtime.close_codes import CLOSE_NOT_FOUND
from realtime.consumers.seed import EchoConsumer, JsonConsumer
from realtime.consumers.topics import TopicsConsumer
from realtime.handshake import refuse
from realtime.types import ASGIApp, Receive, Scope, Send


def websocket_route(pattern: str, application: ASGIApp, *, name: str | None = None) -> URLPattern:
    """
    A route of Channels' `URLRouter` (Django's `re_path`, which its types know only for views).
    `name` labels its connections in the metrics (default: the pattern, realtime/metrics/endpoints.py).
    """
    route: URLPattern = re_path(pattern, cast(Any, application), name=cast(Any, name))  # None is no name
    return route


def token_endpoint(consumer: Any) -> ASGIApp:
    """
    `consumer` (a TokenConsumer class) behind the token middleware: refused before accept without a valid
    token; what it reads before accepting (`read_at_handshake`) is read in the same trip as the token's user.
    """
    application: ASGIApp = TokenAuthMiddleware(consumer.as_asgi(), read_at_handshake=consumer.read_at_handshake)
    return application


async def refuse_unknown_path(scope: Scope, receive: Receive, send: Send) -> None:
    await refuse(receive, send, CLOSE_NOT_FOUND)


# `/ws/`: one connection, many topics (realtime/consumers/topics.py).
topics_urlpatterns = [websocket_route(r"^ws/?$", token_endpoint(TopicsConsumer), name="/ws/")]

# The seed's open endpoints: no token, no channel layer. Not served unless routed.
seed_urlpatterns = [
    websocket_route(r"^ws/echo/?$", EchoConsumer.as_asgi()),
    websocket_route(r"^ws/json/?$", JsonConsumer.as_asgi()),
]

# Last in the router: any other path is refused before accept.
unknown_path = websocket_route(r"", refuse_unknown_path)
