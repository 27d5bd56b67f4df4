"""
One conversation with an endpoint, held the same way in process (channels'
WebsocketCommunicator) and over the wire (a websockets client against daphne),
and the check the property tests run on it: hostile frames, then a probe, and
exactly the answers of the model in tests/support/hostile.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.support.hostile import CommentsModel, Frame

# A guard against a hung test, not a measurement: every answer is awaited in full.
RECEIVE_TIMEOUT = 10.0


class Closed(AssertionError):
    """The server closed a connection the invariant says must stay open."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"the server closed the connection with {code}")
        self.code = code


class Conversation(Protocol):
    async def send(self, frame: Frame) -> None: ...

    async def receive(self) -> str: ...


@dataclass
class InProcess:
    communicator: WebsocketCommunicator

    async def send(self, frame: Frame) -> None:
        key = "text" if frame.kind == "text" else "bytes"
        await self.communicator.send_input({"type": "websocket.receive", key: frame.data})

    async def receive(self) -> str:
        output = await self.communicator.receive_output(timeout=RECEIVE_TIMEOUT)
        if output["type"] == "websocket.close":
            raise Closed(output.get("code"))
        assert output["type"] == "websocket.send"
        assert output.get("bytes") is None, "the server only sends text frames"
        text: str = output["text"]
        return text


@dataclass
class OverTheWire:
    ws: ClientConnection

    async def send(self, frame: Frame) -> None:
        await self.ws.send(frame.data)

    async def receive(self) -> str:
        try:
            message = await self.ws.recv()
        except ConnectionClosed as closed:
            raise Closed(closed.rcvd.code if closed.rcvd else None) from None
        assert isinstance(message, str), "the server only sends text frames"
        return message


Answers = Callable[[Frame], list[Any]]


async def check_conversation(
    conversation: Conversation,
    frames: list[Frame],
    answers: Answers,
    probe: Frame,
    comments: CommentsModel | None = None,
) -> None:
    """
    Send `frames` and then the valid `probe`; the server must answer exactly as
    `answers` says, in order, then answer the probe. `comment` broadcasts, which
    travel through the channel layer and so may overtake later answers, are
    checked apart: one per comment actually created, in order, and no other.
    """
    expected = [answer for frame in frames for answer in answers(frame)] + answers(probe)
    new_bodies = _new_comment_bodies(expected, comments)
    for frame in [*frames, probe]:
        await conversation.send(frame)

    direct: list[str] = []
    broadcasts: list[dict[str, Any]] = []
    while len(direct) < len(expected) or len(broadcasts) < len(new_bodies):
        text = await conversation.receive()
        if comments is not None and json.loads(text).get("type") == "comment":
            broadcasts.append(json.loads(text)["comment"])
        else:
            direct.append(text)

    created = [_match(answer, text, comments) for answer, text in zip(expected, direct, strict=True)]
    new_ids = [comment_id for comment_id, is_new in created if is_new]
    assert [(comment["id"], comment["body"]) for comment in broadcasts] == list(zip(new_ids, new_bodies, strict=True))


def _new_comment_bodies(expected: list[Any], comments: CommentsModel | None) -> list[str]:
    """The bodies of the comments the expected acks will create (a repeated client_id creates none)."""
    if comments is None:
        return []
    seen = set(comments.by_client_id)
    bodies = []
    for answer in expected:
        if isinstance(answer, dict) and answer.get("type") == "comment_created":
            client_id = answer["client_id"]
            if client_id is None or client_id not in seen:
                bodies.append(answer["body"])
            if client_id is not None:
                seen.add(client_id)
    return bodies


def _match(expected: Any, text: str, comments: CommentsModel | None) -> tuple[int | None, bool]:
    """Assert that `text` is the `expected` answer; for an ack, its comment id and whether it is a new comment."""
    if isinstance(expected, str):
        assert text == expected
        return None, False
    frame = json.loads(text)
    labels = {name: expected[name] for name in ("topic", "ref") if name in expected}  # on /ws/
    if expected.get("type") == "error":
        assert set(frame) == {"type", "code", "message", *labels}, frame
        assert (frame["type"], frame["code"]) == ("error", expected["code"]), frame
        assert {name: frame[name] for name in labels} == labels, frame
        assert isinstance(frame["message"], str), frame
        assert frame["message"].endswith("."), frame  # a sentence for a person
        return None, False
    if expected.get("type") == "comment_created":
        assert comments is not None
        assert set(frame) == {"type", "comment_id", "client_id", *labels}, frame
        assert (frame["type"], frame["client_id"]) == ("comment_created", expected["client_id"]), frame
        assert {name: frame[name] for name in labels} == labels, frame
        comment_id = frame["comment_id"]
        client_id = expected["client_id"]
        if client_id is not None and client_id in comments.by_client_id:
            assert comment_id == comments.by_client_id[client_id]  # a retry names the first comment
            return comment_id, False
        assert comment_id not in comments.bodies
        comments.bodies[comment_id] = expected["body"]
        if client_id is not None:
            comments.by_client_id[client_id] = comment_id
        return comment_id, True
    assert frame == expected
    return None, False
