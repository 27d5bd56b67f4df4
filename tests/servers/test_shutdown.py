"""
SIGTERM on each server (PROTOCOL.md, "On every ASGI server"): every open connection,
idle ones included, gets a close frame (4012) before the server and its workers exit,
within 10 seconds, with nothing in the log but the stop; an SSE stream's last event is
`close` with 4012.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from comments.models import Post
from realtime.auth.tokens import issue_token
from tests.servers.conftest import BATTERY_LIMITS
from tests.support import sse
from tests.support.live import SERVERS, WIRE_APPLICATION, start_server

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

EXIT_WITHIN = 10.0
# Messages the busy client has had answered before the SIGTERM: it is in the middle of its exchanges.
BUSY_BEFORE = 3


async def closed_with(ws: ClientConnection) -> int:
    try:
        while True:
            await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006


async def stream_closed_with(stream: sse.Stream) -> int:
    """The code of an SSE stream's `close` event (1006 when it ended without one)."""
    while True:
        event = await stream.next_event(wait=EXIT_WITHIN)
        if event is None:
            return 1006
        if event.frame["type"] == "close":
            assert await stream.next_event(wait=EXIT_WITHIN) is None  # the response ends with it
            return int(event.frame["code"])


async def busy(ws: ClientConnection, answered: asyncio.Semaphore) -> int:
    """
    A client that keeps the connection busy (a message every 100 ms, within the rate limit) until it
    closes; `answered` is released once for each answer.
    """
    try:
        while True:
            await ws.send("busy")
            await ws.recv()
            answered.release()
            await asyncio.sleep(0.1)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006


@pytest.mark.parametrize("server_name", SERVERS)
async def test_sigterm_closes_idle_and_busy_connections_with_4012_and_the_server_exits(
    log_dir: Path, post: Post, user: Any, server_name: str
) -> None:
    server = start_server(log_dir, server_name, application=WIRE_APPLICATION, env=BATTERY_LIMITS)
    token = issue_token(user)
    paths = [
        "/ws/echo",
        f"/ws/notifications?token={token}",
        f"/ws/?token={token}",
        f"/ws/live-comments/{post.pk}?token={token}",
    ]
    idle = [await connect(f"{server.ws_url}{path}") for path in paths]
    chatty = await connect(f"{server.ws_url}/ws/echo")
    answered = asyncio.Semaphore(0)
    chatting = asyncio.ensure_future(busy(chatty, answered))
    stream = await sse.open_stream(
        server.host, server.port, "/realtime/sse?topic=notifications", {"Authorization": f"Bearer {token}"}
    )
    assert stream.status == 200
    assert (await stream.next_event()).frame["type"] == "connected"  # type: ignore[union-attr]
    for _ in range(BUSY_BEFORE):  # the busy client is in the middle of its exchanges
        await asyncio.wait_for(answered.acquire(), EXIT_WITHIN)

    server.process.send_signal(signal.SIGTERM)
    codes = await asyncio.wait_for(
        asyncio.gather(*(closed_with(ws) for ws in idle), chatting, stream_closed_with(stream)), EXIT_WITHIN
    )
    stream.close()
    try:
        server.process.wait(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        server.stop()
        pytest.fail(f"{server_name} did not exit within {EXIT_WITHIN} s of SIGTERM")

    assert codes == [4012] * 6
    log = server.log()
    assert "Traceback" not in log, log[-3000:]
    assert "Exception inside application" not in log
