"""
The SSE endpoints (PROTOCOL.md, "Server-Sent Events: when WebSockets are blocked").

    GET  <prefix>/sse?topic=<T>&topic=<T2>...   (Last-Event-ID, or ?last_event_id=)
    POST <prefix>/sse/<stream>                 one JSON message, as on /ws/

The GET authenticates the request (a bearer token, else the signed-in user's
session, for whom a token is issued as the token endpoint would), then runs a
`/ws/` connection for it through the library's WebSocket stack (stream.py):
the origin check, the caps per address and per user, the token middleware and
`StreamConsumer`. A refusal is an HTTP status with a JSON body; an acceptance,
the `text/event-stream` response. Before the response streams, the request
gives back its database connection: a stream holds none.

The POST hands its message to the stream's channel, on whichever process
holds the stream, and waits for the stream to take it: 202 with no body, or
404 for a stream that does not exist (any more) or is another user's. With a
session it needs Django's CSRF token, as any POST.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from realtime.asgi import websocket_application
from realtime.auth.requests import Unauthenticated, bearer_token, request_user
from realtime.auth.tokens import issue_token
from realtime.auth.views import NO_STORE
from realtime.close_codes import CLOSE_RATE_LIMITED, CLOSE_UNAVAILABLE
from realtime.conf import realtime_settings
from realtime.routing import token_endpoint, websocket_route
from realtime.sse import cursor
from realtime.sse.consumer import SCOPE_KEY, StreamConsumer
from realtime.sse.stream import ACK, MESSAGE, Stream, stream_of
from realtime.types import ASGIApp

logger = logging.getLogger(__name__)

# The label of streams in the metrics, and the path of their WebSocket scope.
ENDPOINT = "/realtime/sse"
# What EventSource accepts, and what a session's stream request must accept.
EVENT_STREAM = "text/event-stream"
# Seconds a POST waits for the stream to take its message.
ACK_TIMEOUT = 5.0
# Request headers a stream's connection does not see: its credentials are the token the view hands it.
DROPPED_HEADERS = (b"cookie", b"authorization")

_application: ASGIApp | None = None


def stream_application() -> ASGIApp:
    """The WebSocket stack every stream runs on (made once): `/ws/`'s, for StreamConsumer."""
    global _application
    if _application is None:
        route = websocket_route(r"^realtime/sse$", token_endpoint(StreamConsumer), name=ENDPOINT)
        _application = websocket_application([route])
    return _application


async def stream(request: HttpRequest) -> HttpResponseBase:
    if request.method != "GET":
        return _answer({"error": "method_not_allowed", "message": "GET opens a stream."}, status=405)
    try:
        user = await request_user(request)
    except Unauthenticated as refused:
        return _answer({"error": "login_required", "message": str(refused)}, status=401)
    if bearer_token(request) is None and EVENT_STREAM not in request.headers.get("Accept", ""):
        # A cookie goes with any request a page of the same site makes (an <img>, a <script>, with no Origin
        # header): a session's stream is what EventSource asks for, and nothing else opens one.
        return _answer(
            {"error": "forbidden", "message": "A session opens a stream with EventSource (Accept: text/event-stream)."},
            status=403,
        )
    last_event_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    try:
        resume = cursor.decode(last_event_id) if last_event_id else {}
    except cursor.InvalidCursor as invalid:
        return _answer({"error": "invalid_cursor", "message": f"Last-Event-ID: {invalid}."}, status=400)
    token = bearer_token(request) or issue_token(user, ttl=timedelta(seconds=realtime_settings.TOKEN_HTTP_TTL))
    await sync_to_async(close_old_connections)()  # the stream holds no database connection (the pool's)
    opened = Stream(
        _websocket_scope(request, token, request.GET.getlist("topic"), resume), stream_application(), user.pk
    )
    refusal = await opened.start()
    if refusal is not None:
        return _refusal(refusal)
    response = StreamingHttpResponse(opened.events(), content_type="text/event-stream")
    response["Cache-Control"] = NO_STORE
    response["X-Accel-Buffering"] = "no"  # nginx: no buffering of this response
    return response


def _websocket_scope(request: HttpRequest, token: str, topics: list[str], resume: dict[str, Any]) -> dict[str, Any]:
    http: dict[str, Any] = getattr(request, "scope", {})
    headers = [(name, value) for name, value in http.get("headers", []) if name not in DROPPED_HEADERS]
    return {
        "type": "websocket",
        "asgi": http.get("asgi", {"version": "3.0"}),
        "scheme": "wss" if request.is_secure() else "ws",
        "path": ENDPOINT,
        "raw_path": ENDPOINT.encode(),
        "query_string": b"",
        "root_path": http.get("root_path", ""),
        "headers": [*headers, (b"authorization", f"Bearer {token}".encode())],
        "client": http.get("client"),
        "server": http.get("server"),
        "subprotocols": [],
        SCOPE_KEY: {"topics": topics, "resume": resume},
    }


def _refusal(code: int) -> JsonResponse:
    """A stream refused before it opened, as the status an HTTP client expects."""
    if code == CLOSE_RATE_LIMITED:
        return _answer({"error": "rate_limited", "code": code, "message": "Too many connections."}, status=429)
    if code == CLOSE_UNAVAILABLE:
        return _answer({"error": "unavailable", "code": code, "message": "Try again shortly."}, status=503)
    return _answer({"error": "forbidden", "code": code, "message": "The stream was refused."}, status=403)


@csrf_exempt  # checked below for a session; a bearer token needs none
async def post_message(request: HttpRequest, name: str) -> HttpResponseBase:
    if request.method != "POST":
        return _answer({"error": "method_not_allowed", "message": "POST a message to the stream."}, status=405)
    try:
        user = await request_user(request)
    except Unauthenticated as refused:
        return _answer({"error": "login_required", "message": str(refused)}, status=401)
    if bearer_token(request) is None:
        forbidden = CsrfViewMiddleware(_no_response).process_view(request, _no_response, (), {})
        if forbidden is not None:
            return forbidden
    found = stream_of(name)
    layer = get_channel_layer()
    if found is None or found[1] != str(user.pk) or layer is None:
        return _no_such_stream()
    if len(request.body) > realtime_settings.WEBSOCKET_MAX_MESSAGE_SIZE:
        return _answer({"error": "too_large", "message": "The message is over the size limit."}, status=413)
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _answer({"error": "invalid_json", "message": "The message must be UTF-8 JSON."}, status=400)
    try:
        reply = await layer.new_channel()
        await layer.send(found[0], {"type": MESSAGE, "text": text, "user": str(user.pk), "reply": reply})
        answer = await asyncio.wait_for(layer.receive(reply), ACK_TIMEOUT)
    except ChannelFull:  # messages wait for a stream that takes none (its process is gone)
        return _answer({"error": "rate_limited", "message": "The stream has messages waiting; send later."}, status=429)
    except TimeoutError:
        return _no_such_stream()
    except Exception as error:  # the channel layer lost Redis
        logger.warning("POST to an SSE stream: the channel layer is unavailable (%s)", type(error).__name__)
        return _answer({"error": "unavailable", "message": "Try again shortly."}, status=503)
    if answer.get("type") != ACK or not answer.get("mine"):
        return _no_such_stream()
    if not answer.get("taken"):
        return _answer({"error": "rate_limited", "message": "The stream has messages waiting; send later."}, status=429)
    return HttpResponse(status=202)


def _no_response(request: HttpRequest) -> HttpResponse:
    raise AssertionError("not called: only the CSRF check runs")


def _no_such_stream() -> JsonResponse:
    return _answer({"error": "not_found", "message": "No such stream of this user's."}, status=404)


def _answer(body: dict[str, Any], *, status: int) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"separators": (",", ":"), "ensure_ascii": False})
    response["Cache-Control"] = NO_STORE
    return response
