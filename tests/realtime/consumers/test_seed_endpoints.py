"""`/ws/echo` and `/ws/json` through the whole stack (origin check, router, consumer)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from project.asgi import application


async def connect(path: str, **kwargs: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, **kwargs)
    assert await communicator.connect() == (True, None)
    return communicator


# --- /ws/echo -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["hello", "héllo wörld ✓ 日本", "", " spaced "], ids=["ascii", "non-ascii", "empty", "spaces"]
)
async def test_echo_answers_text_with_echo_prefix(text: str) -> None:
    communicator = await connect("/ws/echo")
    await communicator.send_input({"type": "websocket.receive", "text": text})
    assert await communicator.receive_output() == {"type": "websocket.send", "text": f"Echo: {text}"}
    await communicator.disconnect()


async def test_echo_answers_binary_with_an_error_frame_and_keeps_echoing() -> None:
    communicator = await connect("/ws/echo")
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "text_required",
        "message": "This endpoint echoes text frames: send text, not binary.",
    }
    await communicator.send_to(text_data="still here")
    assert await communicator.receive_from() == "Echo: still here"
    await communicator.disconnect()


async def test_echo_keeps_order_over_many_frames() -> None:
    communicator = await connect("/ws/echo")
    for number in range(50):
        await communicator.send_to(text_data=str(number))
    assert [await communicator.receive_from() for _ in range(50)] == [f"Echo: {n}" for n in range(50)]
    await communicator.disconnect()


# --- /ws/json -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "answer"),
    [
        ('{"a": 1, "b": [true, null]}', '{"received":{"a":1,"b":[true,null]},"status":"ok"}'),
        ("[1, 2.5, -3]", '{"received":[1,2.5,-3],"status":"ok"}'),
        ('"Zoë ✓"', '{"received":"Zoë ✓","status":"ok"}'),
        ("42", '{"received":42,"status":"ok"}'),
        ("null", '{"received":null,"status":"ok"}'),
        ("1" * 300, '{"received":' + "1" * 300 + ',"status":"ok"}'),
    ],
    ids=["object", "array", "non-ascii-string", "number", "null", "big-integer"],
)
async def test_json_answers_any_value_compactly(sent: str, answer: str) -> None:
    communicator = await connect("/ws/json")
    await communicator.send_to(text_data=sent)
    assert await communicator.receive_output() == {"type": "websocket.send", "text": answer}
    await communicator.disconnect()


async def test_json_accepts_a_binary_frame_of_utf8_json() -> None:
    communicator = await connect("/ws/json")
    await communicator.send_to(bytes_data='{"name": "Zoë"}'.encode())
    assert await communicator.receive_from() == '{"received":{"name":"Zoë"},"status":"ok"}'
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"text_data": "not json"}, "The frame is not valid JSON: Expecting value: line 1 column 1 (char 0)."),
        ({"text_data": '{"a": }'}, "The frame is not valid JSON: Expecting value: line 1 column 7 (char 6)."),
        ({"bytes_data": b"\xc3\x28"}, "A binary frame must hold UTF-8 encoded JSON."),
        ({"text_data": "Infinity"}, "Infinity is not a JSON value."),
    ],
    ids=["text", "truncated", "bad-utf8", "infinity"],
)
async def test_json_answers_invalid_json_with_an_error_frame_and_stays_usable(
    frame: dict[str, Any], message: str
) -> None:
    communicator = await connect("/ws/json")
    await communicator.send_to(**frame)
    assert await communicator.receive_json_from() == {"type": "error", "code": "invalid_json", "message": message}
    await communicator.send_to(text_data="[]")
    assert await communicator.receive_from() == '{"received":[],"status":"ok"}'
    await communicator.disconnect()


# --- Routing and origins ----------------------------------------------------------


async def test_an_unknown_path_is_refused_before_accept() -> None:
    communicator = WebsocketCommunicator(application, "/ws/nothing-here")
    assert await communicator.connect() == (False, 4404)


@pytest.mark.parametrize(
    ("origin", "host"),
    [(b"http://localhost:8000", b"localhost:8000"), (b"http://127.0.0.1", b"127.0.0.1")],
    ids=["localhost-port", "ip"],
)
async def test_a_browser_of_the_sites_own_origin_is_accepted(origin: bytes, host: bytes) -> None:
    communicator = await connect("/ws/echo", headers=[(b"host", host), (b"origin", origin)])
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [b"http://evil.example", b"null", b"http://localhost.evil.example", b"http://[::1"],
    ids=["other-site", "null", "suffix-trick", "unparsable"],
)
@pytest.mark.parametrize("path", ["/ws/echo", "/ws/json"])
async def test_a_browser_from_another_origin_is_refused_with_1008(origin: bytes, path: str) -> None:
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", origin)])
    assert await communicator.connect() == (False, 1008)


async def test_a_client_without_origin_is_accepted() -> None:
    communicator = await connect("/ws/json", headers=[(b"user-agent", b"python")])
    await communicator.disconnect()
