"""
Connections counted at the application's edge (realtime/metrics/connections.py):
open connections, handshakes by outcome, closes by code and messages, each
labelled by the route, never the path.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from comments.models import Post
from project.asgi import application
from realtime.asgi import realtime_application
from realtime.consumers import WebSocketConsumer
from realtime.routing import websocket_route
from tests.support.metrics import Samples

pytestmark = pytest.mark.django_db(transaction=True)

ECHO = {"endpoint": "/ws/echo"}
NOTIFICATIONS = {"endpoint": "/ws/notifications"}
COMMENTS = {"endpoint": "/ws/live-comments/<post_id>"}


class Closes(WebSocketConsumer):
    """Closes with the code the client sends as text."""

    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.close(code=int(text_data or "1000"))


class Crashes(WebSocketConsumer):
    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        raise RuntimeError("a bug")


small_site = realtime_application(
    application,
    websocket_urlpatterns=[
        websocket_route(r"^test/close$", Closes.as_asgi()),
        websocket_route(r"^test/crash$", Crashes.as_asgi(), name="crash"),
    ],
    check_redis_at_start=False,
)


async def test_an_accepted_connection_is_open_until_it_closes_and_then_counted_by_its_code() -> None:
    before = Samples()
    ws = WebsocketCommunicator(application, "/ws/echo")
    assert (await ws.connect())[0] is True
    assert before.added("realtime_connections", ECHO) == 1
    assert before.added("realtime_handshakes_total", {**ECHO, "outcome": "accepted"}) == 1

    await ws.disconnect(code=1000)

    assert before.added("realtime_connections", ECHO) == 0
    assert before.added("realtime_closes_total", {**ECHO, "code": "1000", "by": "client"}) == 1


async def test_messages_are_counted_both_ways_by_endpoint() -> None:
    before = Samples()
    ws = WebsocketCommunicator(application, "/ws/echo")
    await ws.connect()
    for text in ("a", "b", "c"):
        await ws.send_to(text_data=text)
        assert await ws.receive_from() == f"Echo: {text}"
    await ws.disconnect()

    assert before.added("realtime_messages_received_total", ECHO) == 3
    assert before.added("realtime_messages_sent_total", ECHO) == 3


async def test_connections_to_two_posts_are_one_series_of_the_route(token: str, django_user_model: Any) -> None:
    posts = [await Post.objects.acreate(title=f"post {n}") for n in range(2)]
    before = Samples()
    sockets = [WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}") for post in posts]
    for ws in sockets:
        assert (await ws.connect())[0] is True

    assert before.added("realtime_connections", COMMENTS) == 2
    assert before.added("realtime_handshakes_total", {**COMMENTS, "outcome": "accepted"}) == 2
    for ws in sockets:
        await ws.disconnect()


async def test_a_server_close_is_counted_by_the_code_it_sent() -> None:
    before = Samples()
    ws = WebsocketCommunicator(small_site, "/test/close")
    await ws.connect()
    await ws.send_to(text_data="4410")
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4410, "reason": ""}
    await ws.disconnect(code=4410)

    assert before.added("realtime_closes_total", {"endpoint": "/test/close", "code": "4410", "by": "server"}) == 1


async def test_a_client_close_code_outside_the_table_is_counted_as_other() -> None:
    before = Samples()
    ws = WebsocketCommunicator(application, "/ws/echo")
    await ws.connect()
    await ws.disconnect(code=3456)

    assert before.added("realtime_closes_total", {**ECHO, "code": "other", "by": "client"}) == 1
    assert before.added("realtime_closes_total", {**ECHO, "code": "3456", "by": "client"}) == 0


async def test_a_client_that_closes_with_1011_is_counted_as_the_clients_close_not_a_crash() -> None:
    before = Samples()
    ws = WebsocketCommunicator(application, "/ws/echo")
    await ws.connect()
    await ws.disconnect(code=1011)

    assert before.added("realtime_closes_total", {**ECHO, "code": "1011", "by": "client"}) == 1
    assert before.added("realtime_closes_total", {**ECHO, "code": "1011", "by": "server"}) == 0


async def test_a_consumer_that_raises_is_counted_closed_with_1011_and_no_longer_open() -> None:
    before = Samples()
    ws = WebsocketCommunicator(small_site, "/test/crash")
    await ws.connect()
    await ws.send_to(text_data="boom")
    with pytest.raises(RuntimeError, match="a bug"):
        await ws.receive_output()

    assert before.added("realtime_closes_total", {"endpoint": "crash", "code": "1011", "by": "server"}) == 1
    assert before.added("realtime_connections", {"endpoint": "crash"}) == 0


async def test_a_client_that_leaves_before_the_answer_is_counted_as_abandoned() -> None:
    async def leaves(scope: Any, receive: Any, send: Any) -> None:
        await receive()  # connect: no answer, then the client is gone

    before = Samples()
    site = realtime_application(
        application, websocket_urlpatterns=[websocket_route(r"^test/slow$", leaves)], check_redis_at_start=False
    )
    ws = WebsocketCommunicator(site, "/test/slow")
    await ws.send_input({"type": "websocket.connect"})
    await ws.wait()

    assert before.added("realtime_handshakes_total", {"endpoint": "/test/slow", "outcome": "abandoned"}) == 1


# --- Refusals, by outcome ---------------------------------------------------------------


async def test_a_missing_token_is_counted_as_refused_token() -> None:
    before = Samples()
    assert await WebsocketCommunicator(application, "/ws/notifications").connect() == (False, 1008)
    assert before.added("realtime_handshakes_total", {**NOTIFICATIONS, "outcome": "refused_token"}) == 1
    assert before.added("realtime_handshakes_total", {**NOTIFICATIONS, "outcome": "refused_origin"}) == 0


async def test_a_foreign_origin_is_counted_as_refused_origin(token: str) -> None:
    headers = [(b"host", b"localhost:8000"), (b"origin", b"http://evil.example")]
    before = Samples()
    ws = WebsocketCommunicator(application, f"/ws/notifications?token={token}", headers=headers)
    assert await ws.connect() == (False, 1008)
    assert before.added("realtime_handshakes_total", {**NOTIFICATIONS, "outcome": "refused_origin"}) == 1
    assert before.added("realtime_handshakes_total", {**NOTIFICATIONS, "outcome": "refused_token"}) == 0


async def test_a_post_that_does_not_exist_is_counted_as_refused_not_found(token: str) -> None:
    before = Samples()
    assert await WebsocketCommunicator(application, f"/ws/live-comments/999999?token={token}").connect() == (
        False,
        4404,
    )
    assert before.added("realtime_handshakes_total", {**COMMENTS, "outcome": "refused_not_found"}) == 1


async def test_a_path_no_route_serves_is_counted_under_other() -> None:
    before = Samples()
    assert await WebsocketCommunicator(application, "/ws/nowhere/42").connect() == (False, 4404)
    assert before.added("realtime_handshakes_total", {"endpoint": "other", "outcome": "refused_not_found"}) == 1


async def test_a_user_past_the_connection_cap_is_counted_as_refused_cap(token: str, realtime_settings: Any) -> None:
    realtime_settings.MAX_CONNECTIONS_PER_USER = 1
    first = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert (await first.connect())[0] is True
    before = Samples()
    assert await WebsocketCommunicator(application, f"/ws/notifications?token={token}").connect() == (False, 4429)
    assert before.added("realtime_handshakes_total", {**NOTIFICATIONS, "outcome": "refused_cap"}) == 1
    await first.disconnect()


async def test_a_handshake_while_the_database_is_away_is_counted_as_refused_unavailable(token: str) -> None:
    outage = mock.Mock(side_effect=OperationalError("connection refused"))
    before = Samples()
    with mock.patch("realtime.auth.middleware.active_user", outage):
        ws = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
        assert await ws.connect() == (False, 4503)
    assert before.added("realtime_handshakes_total", {**NOTIFICATIONS, "outcome": "refused_unavailable"}) == 1
    assert before.added("realtime_database_failures_total", {"error": "outage"}) == 1
