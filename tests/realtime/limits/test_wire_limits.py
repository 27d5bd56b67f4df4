"""Limits over a real daphne started by `manage.py serve`: an oversize message closes only its own connection."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from realtime.management.commands.serve import daphne_arguments
from tests.support.live import LiveServer

pytestmark = pytest.mark.wire

LIMIT = 1024  # the message size of tests/conftest.py's guarded server


async def test_an_oversize_message_closes_only_its_connection(guarded_server: LiveServer) -> None:
    url = f"{guarded_server.ws_url}/ws/json"
    async with connect(url) as bystander, connect(url, max_size=None) as offender:
        await offender.send(json.dumps("x" * LIMIT))  # LIMIT + 2 bytes with its quotes
        with pytest.raises(ConnectionClosed) as closed:
            await offender.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009  # message too big, from daphne's WebSocket protocol
        await bystander.send("[1]")
        assert await bystander.recv() == '{"received":[1],"status":"ok"}'
    assert "Exception inside application" not in guarded_server.log()


async def test_an_answer_over_the_limit_becomes_an_error_frame(guarded_server: LiveServer) -> None:
    async with connect(f"{guarded_server.ws_url}/ws/json") as ws:
        await ws.send(json.dumps("x" * (LIMIT - 2)))  # exactly LIMIT bytes: accepted, but its answer is larger
        assert json.loads(await ws.recv()) == {
            "type": "error",
            "code": "too_large",
            "message": f"The server's answer ({LIMIT + 27} bytes) exceeds the {LIMIT}-byte message limit; "
            "it was not sent.",
        }
        await ws.send("[2]")
        assert await ws.recv() == '{"received":[2],"status":"ok"}'
    assert "Exception inside application" not in guarded_server.log()


async def test_sustained_abuse_reaches_the_client_as_4429(guarded_server: LiveServer) -> None:
    async with connect(f"{guarded_server.ws_url}/ws/echo") as ws:
        for _ in range(4):
            await ws.send("spam")
        answers = [await ws.recv() for _ in range(3)]
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert answers[:2] == ["Echo: spam", "Echo: spam"]
    assert json.loads(answers[2])["code"] == "rate_limited"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4429


def test_serve_passes_the_settings_to_daphne(realtime_settings: Any) -> None:
    realtime_settings.WEBSOCKET_MAX_MESSAGE_SIZE, realtime_settings.SERVER_BACKLOG = 2048, 512
    assert daphne_arguments("::1", 8001, "project.asgi.application", ["-v", "2"]) == [
        "-e",
        r"tcp:port=8001:interface=\:\:1:backlog=512",
        "--websocket-max-message-size",
        "2048",
        "--websocket-max-frame-size",
        "2048",
        "-v",
        "2",
        "project.asgi:application",
    ]


async def test_a_text_frame_of_invalid_utf8_closes_only_its_connection_with_1007(daphne_server: LiveServer) -> None:
    url = f"{daphne_server.ws_url}/ws/echo"
    async with connect(url) as bystander, connect(url) as offender:
        await offender.send(b"caf\xe9", text=True)  # Latin-1, not UTF-8, in a text frame
        with pytest.raises(ConnectionClosed) as closed:
            await offender.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1007  # invalid frame payload data (RFC 6455), from autobahn
        await bystander.send("still here")
        assert await bystander.recv() == "Echo: still here"
    assert "Exception inside application" not in daphne_server.log()
