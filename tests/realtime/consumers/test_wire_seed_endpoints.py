"""`/ws/echo`, `/ws/json` and the consumer's close codes over a real daphne, with a real client."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from tests.support.live import LiveServer

pytestmark = pytest.mark.wire


async def test_echo_round_trips_non_ascii_text(daphne_server: LiveServer) -> None:
    async with connect(f"{daphne_server.ws_url}/ws/echo") as ws:
        await ws.send("héllo wörld ✓ 日本 🎉")
        assert await ws.recv() == "Echo: héllo wörld ✓ 日本 🎉"


async def test_json_answer_is_compact_and_keeps_non_ascii(daphne_server: LiveServer) -> None:
    async with connect(f"{daphne_server.ws_url}/ws/json") as ws:
        await ws.send(json.dumps({"name": "Zoë", "list": [1, 2]}, indent=2))
        assert await ws.recv() == '{"received":{"name":"Zoë","list":[1,2]},"status":"ok"}'


async def test_json_accepts_binary_utf8_json(daphne_server: LiveServer) -> None:
    async with connect(f"{daphne_server.ws_url}/ws/json") as ws:
        await ws.send('{"bin": "ü"}'.encode())
        assert await ws.recv() == '{"received":{"bin":"ü"},"status":"ok"}'


async def test_invalid_json_gets_an_error_frame_and_the_connection_stays_usable(daphne_server: LiveServer) -> None:
    async with connect(f"{daphne_server.ws_url}/ws/json") as ws:
        await ws.send("{not json")
        assert json.loads(await ws.recv()) == {
            "type": "error",
            "code": "invalid_json",
            "message": "The frame is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1).",
        }
        await ws.send("[true]")
        assert await ws.recv() == '{"received":[true],"status":"ok"}'


async def test_twenty_concurrent_clients_each_get_their_own_answers(daphne_server: LiveServer) -> None:
    async def client(number: int) -> list[str | bytes]:
        async with connect(f"{daphne_server.ws_url}/ws/json") as ws:
            answers: list[str | bytes] = []
            for message in range(25):
                await ws.send(json.dumps({"client": number, "message": message}))
                answers.append(await ws.recv())
            return answers

    results = await asyncio.gather(*(client(number) for number in range(20)))
    assert results == [
        [f'{{"received":{{"client":{n},"message":{m}}},"status":"ok"}}' for m in range(25)] for n in range(20)
    ]


async def test_a_browser_from_another_origin_gets_http_403(daphne_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{daphne_server.ws_url}/ws/echo", origin=Origin("http://evil.example")):
            pass
    assert refused.value.response.status_code == 403


async def test_an_unknown_path_gets_http_403(daphne_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{daphne_server.ws_url}/ws/elsewhere"):
            pass
    assert refused.value.response.status_code == 403


async def test_the_client_close_code_reaches_the_server_log(daphne_server: LiveServer) -> None:
    async with connect(f"{daphne_server.ws_url}/ws/echo") as ws:
        await ws.close(code=4321)
    for _ in range(50):
        if "WebSocket /ws/echo closed by the client with code 4321" in daphne_server.log():
            break
        await asyncio.sleep(0.05)
    assert "WebSocket /ws/echo closed by the client with code 4321" in daphne_server.log()


@pytest.mark.parametrize(
    ("requested", "received"),
    [(1000, 1000), (4401, 4401), (1008, 4008), (1011, 4011), (1001, 4001)],
    ids=["normal", "private", "policy", "internal", "going-away"],
)
async def test_a_close_after_accept_reaches_the_client_with_a_sendable_code(
    daphne_server: LiveServer, requested: int, received: int
) -> None:
    async with connect(f"{daphne_server.ws_url}/test/close") as ws:
        await ws.send(str(requested))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == received
    assert "Exception inside application" not in daphne_server.log()
