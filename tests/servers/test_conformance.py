"""
Every endpoint as PROTOCOL.md says, and its bounds, on each server of "On every ASGI server".
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import socket
import struct
import termios
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from comments.models import Comment, Post
from notifications.services import notify_user
from realtime.auth.tokens import issue_token
from tests.servers.conftest import BATTERY_LIMITS
from tests.support import rawws
from tests.support.live import LiveServer, shift_clock
from tests.support.presence import next_frame_but_presence, receive_presence_state_over_the_wire
from tests.support.scrape import scrape, value

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

LIMIT = int(BATTERY_LIMITS["WEBSOCKET_MAX_MESSAGE_SIZE"])
PATIENCE = float(BATTERY_LIMITS["HEARTBEAT_INTERVAL"]) + float(BATTERY_LIMITS["HEARTBEAT_TIMEOUT"])
RECEIVE = 10.0


async def frame(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), RECEIVE))


async def closed_with(ws: ClientConnection) -> int:
    """The code the server closed `ws` with (1006: no close frame), reading what comes before it."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), RECEIVE)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006


def clean(server: LiveServer) -> None:
    log = server.log()
    assert "Traceback" not in log, log[-3000:]
    assert "Exception inside application" not in log


# --- The seed's endpoints and the token endpoints ------------------------------------------------------------


async def test_echo_and_json_answer_as_the_seed(any_server: LiveServer) -> None:
    async with connect(f"{any_server.ws_url}/ws/echo") as echo, connect(f"{any_server.ws_url}/ws/json") as data:
        await echo.send("héllo")
        assert await echo.recv() == "Echo: héllo"
        await data.send('{"a": [1, "ü"]}')
        assert await data.recv() == '{"received":{"a":[1,"ü"]},"status":"ok"}'
        await data.send("{not json")
        assert (await frame(data))["code"] == "invalid_json"
    clean(any_server)


async def test_notifications_answer_pings_and_push_what_is_stored(any_server: LiveServer, user: Any) -> None:
    async with connect(f"{any_server.ws_url}/ws/notifications?token={issue_token(user)}") as ws:
        await ws.send('{"type":"ping"}')
        assert await frame(ws) == {"type": "pong"}
        stored = await asyncio.to_thread(notify_user, user, {"text": "from another process"})
        pushed = await frame(ws)  # the feed checks find it (another process: no channel layer between them)
    assert (pushed["type"], pushed["id"], pushed["payload"]) == (
        "notification",
        stored.pk,
        {"text": "from another process"},
    )
    clean(any_server)


async def test_a_comment_is_acknowledged_after_its_commit_and_broadcast(
    any_server: LiveServer, post: Post, user: Any, other_user: Any
) -> None:
    url = f"{any_server.ws_url}/ws/live-comments/{post.pk}?token="
    async with connect(url + issue_token(user)) as writer, connect(url + issue_token(other_user)) as watcher:
        await receive_presence_state_over_the_wire(writer, f"comments:{post.pk}", user)
        await writer.send(json.dumps({"type": "new_comment", "body": "on every server", "client_id": "c-1"}))
        ack = await next_frame_but_presence(writer)
        broadcast = await next_frame_but_presence(watcher)
        while broadcast["type"] != "comment":
            broadcast = await next_frame_but_presence(watcher)
    stored = await Comment.objects.aget(client_id="c-1")
    assert ack == {"type": "comment_created", "comment_id": stored.pk, "client_id": "c-1"}
    assert (broadcast["comment"]["id"], broadcast["comment"]["body"]) == (stored.pk, "on every server")
    clean(any_server)


async def test_a_topic_subscribed_with_since_replays_then_completes(
    any_server: LiveServer, post: Post, user: Any
) -> None:
    made = [await Comment.objects.acreate(post=post, author=user, body=f"#{n}", seq=n) for n in (1, 2, 3)]
    await Post.objects.filter(pk=post.pk).aupdate(last_comment_seq=3)
    topic = f"comments:{post.pk}"
    async with connect(f"{any_server.ws_url}/ws/?token={issue_token(user)}") as ws:
        await ws.send(json.dumps({"type": "subscribe", "topic": topic, "since": made[0].pk, "ref": "r"}))
        assert await frame(ws) == {"type": "subscribed", "topic": topic, "ref": "r"}
        assert (await frame(ws))["type"] == "presence_state"
        replayed = [await frame(ws) for _ in range(3)]
    assert [(f["type"], f["comment"]["id"]) for f in replayed[:2]] == [("comment", made[1].pk), ("comment", made[2].pk)]
    assert replayed[2] == {"type": "replay_complete", "topic": topic, "last_id": made[2].pk, "truncated": False}
    clean(any_server)


async def test_a_refused_token_is_refused_before_accept_with_http_403(any_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{any_server.ws_url}/ws/notifications?token=not-a-token"):
            pass
    assert refused.value.response.status_code == 403
    clean(any_server)


@pytest.mark.parametrize("code", [4401, 4410, 4012, 1008])
async def test_a_close_after_accept_reaches_the_client_with_its_code(any_server: LiveServer, code: int) -> None:
    async with connect(f"{any_server.ws_url}/test/close") as ws:
        await ws.send(str(code))
        received = await closed_with(ws)
    # daphne sends only 1000 and 3000-4999 after accept: 1008 goes as 4008 (realtime/server/codes.py).
    assert received == (4008 if (any_server.name, code) == ("daphne", 1008) else code)
    clean(any_server)


# --- Bounds ---------------------------------------------------------------------------------------------------


async def test_a_message_over_the_limit_closes_its_connection_alone_with_1009(any_server: LiveServer) -> None:
    url = f"{any_server.ws_url}/ws/json"
    async with connect(url) as bystander, connect(url, max_size=None) as offender:
        await offender.send(json.dumps("x" * LIMIT))
        assert await closed_with(offender) == 1009
        await bystander.send("[1]")
        assert await bystander.recv() == '{"received":[1],"status":"ok"}'
    clean(any_server)


async def test_a_client_that_reads_nothing_is_given_up_and_stops_counting(
    any_server: LiveServer, long_post: Post, token: str
) -> None:
    endpoint = {"endpoint": "/ws/live-comments/<post_id>"}
    await asyncio.to_thread(shift_clock, any_server, 0, wall=False)  # the connection's timers on a clock we move
    before = value(await asyncio.to_thread(scrape, any_server), "realtime_connections", endpoint)
    reader = await asyncio.to_thread(
        rawws.RawClient, any_server.host, any_server.port, f"/ws/live-comments/{long_post.pk}?token={token}&since=0",
        receive_buffer=4096,
    )  # fmt: skip
    assert reader.status == 101
    counted = []
    for _ in range(80):  # it reads nothing: given up after a heartbeat's patience (3 s)
        counted.append(value(await asyncio.to_thread(scrape, any_server), "realtime_connections", endpoint))
        if counted[-1] == before and len(counted) > 1:
            break
        await asyncio.sleep(0.05)
        # The server's patience passes a quarter at a time, without waiting (its monotonic clock only).
        await asyncio.to_thread(shift_clock, any_server, PATIENCE / 4, wall=False)
    reader.close()
    assert counted[0] == before + 1
    assert counted[-1] == before, f"still counted: {counted}"
    clean(any_server)


# --- The HTTP side ----------------------------------------------------------------------------------------------

# Django admin's largest static file (325 KB), served by realtime_application (REALTIME SERVE_STATIC).
STATIC = "/static/admin/js/vendor/xregexp/xregexp.js"
PIPELINERS, PIPELINED = 8, 800  # 8 × 800 answers: 2 GB, had the server written them all
GROWTH_BOUND_MIB = 48


def pipeline(server: LiveServer, request: bytes, count: int) -> socket.socket:
    """A client that sends `count` requests at once and reads none of the answers (a 4 KiB receive buffer)."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect((server.host, server.port))
    client.setblocking(False)
    with contextlib.suppress(BlockingIOError):  # what the server does not take stays unsent
        client.send(request * count)
    return client


def queues(clients: list[socket.socket]) -> list[tuple[int, int]]:
    """What waits in each client's socket: bytes it sent that the server has not taken, bytes it has not read."""
    return [(queued(client, termios.TIOCOUTQ), queued(client, termios.FIONREAD)) for client in clients]


def queued(client: socket.socket, request: int) -> int:
    answer = fcntl.ioctl(client.fileno(), request, b"\0" * 4)
    return int(struct.unpack("i", answer)[0])


@pytest.mark.parametrize("path", ["static", "history"])
async def test_pipelined_requests_whose_answers_nobody_reads_cost_a_bounded_amount(
    any_server: LiveServer, long_post: Post, token: str, path: str
) -> None:
    target = STATIC if path == "static" else f"/realtime/history/comments/{long_post.pk}?since=0&limit=500"
    request = f"GET {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    before = any_server.memory_kib()
    clients = [pipeline(any_server, request, PIPELINED) for _ in range(PIPELINERS)]
    # What the server would take, it takes now: it idles (no CPU, its memory unchanged), and neither takes
    # more of what the clients sent nor writes more to them.
    await asyncio.to_thread(any_server.settle, lambda: queues(clients))
    grown_mib = (any_server.memory_kib() - before) / 1024
    async with connect(f"{any_server.ws_url}/ws/echo") as ws:  # and it still answers everyone else
        await ws.send("still here")
        assert await asyncio.wait_for(ws.recv(), RECEIVE) == "Echo: still here"
    for client in clients:
        client.close()
    assert grown_mib < GROWTH_BOUND_MIB, f"{any_server.name} grew by {grown_mib:.0f} MiB"
    clean(any_server)
