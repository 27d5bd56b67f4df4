"""
A response whose client left ends quietly (realtime/disconnects.py): the send
that found the client gone and every later one are dropped; any other error of
`send` is raised as it was. Over the wire on uvicorn: tests/servers/test_conformance.py.
"""

from __future__ import annotations

import pytest

from realtime.disconnects import quiet_when_gone
from realtime.types import Message, Receive, Scope, Send

SCOPE: Scope = {"type": "http", "method": "GET", "path": "/static/big.js"}
RESPONSE: list[Message] = [
    {"type": "http.response.start", "status": 200, "headers": []},
    {"type": "http.response.body", "body": b"a", "more_body": True},
    {"type": "http.response.body", "body": b"b", "more_body": True},
    {"type": "http.response.body", "body": b""},
]


async def respond(scope: Scope, receive: Receive, send: Send) -> None:
    for message in RESPONSE:
        await send(message)


async def nothing() -> Message:
    raise AssertionError("not called")


def failing_after(sent: list[Message], count: int, error: BaseException) -> Send:
    async def send(message: Message) -> None:
        if len(sent) == count:
            raise error
        sent.append(message)

    return send


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("unable to perform operation on <TCPTransport closed=True reading=False>; the handler is closed"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
)
async def test_a_send_that_finds_the_client_gone_ends_the_response_quietly(error: BaseException) -> None:
    sent: list[Message] = []
    await quiet_when_gone(respond)(SCOPE, nothing, failing_after(sent, 2, error))
    assert sent == RESPONSE[:2]  # the rest dropped, not raised


async def test_any_other_error_of_send_is_raised() -> None:
    sent: list[Message] = []
    with pytest.raises(RuntimeError, match="Response content longer than Content-Length"):
        await quiet_when_gone(respond)(
            SCOPE, nothing, failing_after(sent, 1, RuntimeError("Response content longer than Content-Length"))
        )
    assert sent == RESPONSE[:1]
