"""What the tests of other behaviours expect of presence: one `presence_state` per subscription, with its user in it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.testing import WebsocketCommunicator


def is_state_with(frame: dict[str, Any], topic: str, user: Any | None = None) -> bool:
    """`frame` is the `presence_state` of `topic`, listing `user` (when given) among exactly `count` users."""
    if frame.get("type") != "presence_state" or frame.get("topic") != topic:
        return False
    users = frame.get("users", [])
    if frame.get("count") != len(users):
        return False
    return user is None or {"id": user.pk, "username": user.get_username()} in users


async def receive_presence_state(communicator: WebsocketCommunicator, topic: str, user: Any | None = None) -> None:
    frame = await communicator.receive_json_from()
    assert is_state_with(frame, topic, user), frame


async def receive_presence_state_over_the_wire(ws: Any, topic: str, user: Any | None = None) -> None:
    """The same, from a `websockets` client."""
    frame = json.loads(await ws.recv())
    assert is_state_with(frame, topic, user), frame


PRESENCE_FRAMES = ("presence_state", "presence_diff")


async def next_frame_but_presence(ws: Any, wait: float = 10) -> dict[str, Any]:
    """The next frame of a `websockets` client that is not a presence frame (for tests about something else)."""
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=wait))
        if frame.get("type") not in PRESENCE_FRAMES:
            return frame
