"""
A replay goes as fast as the client reads it, never faster (PROTOCOL.md, "Slow
and hostile clients"): the consumer waits on the server's flow control
(`scope["extensions"]["realtime.flow"]`, realtime/limits/flow.py), here a
stand-in the test holds and releases, on a manual clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from comments.models import Comment, Post
from comments.services import comment_create
from project.asgi import application
from realtime.limits.flow import EXTENSION
from realtime.testing import ManualClock
from realtime.types import Receive, Scope, Send
from tests.support.presence import receive_presence_state

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("realtime_clock")]

# HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT, the defaults: how long a client may stay behind.
PATIENCE = 40.0


class HeldFlow:
    """A client that has read nothing yet, until `release()`."""

    def __init__(self) -> None:
        self._read = asyncio.Event()
        self.waited_on = asyncio.Event()

    def writable(self) -> bool:
        return self._read.is_set()

    async def drained(self) -> None:
        self.waited_on.set()
        await self._read.wait()

    def buffered(self) -> int:
        return 0 if self._read.is_set() else 1 << 20

    def release(self) -> None:
        self._read.set()


def behind(flow: HeldFlow) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        extensions = {**(scope.get("extensions") or {}), EXTENSION: flow}
        await application({**scope, "extensions": extensions}, receive, send)

    return app


@pytest.fixture
def commented(post: Post, user: Any) -> list[Comment]:
    return [comment_create(post_id=post.pk, author=user, body=f"c{n}", client_id=None)[0] for n in range(3)]


async def test_a_replay_waits_for_the_client_to_read_then_goes_on(
    post: Post, token: str, commented: list[Comment]
) -> None:
    flow = HeldFlow()
    ws = WebsocketCommunicator(behind(flow), f"/ws/live-comments/{post.pk}?token={token}&since=0")
    assert await ws.connect() == (True, None)
    await receive_presence_state(ws, f"comments:{post.pk}")  # not an entry of the feed: not paced
    await asyncio.wait_for(flow.waited_on.wait(), 10)
    assert await ws.receive_nothing(timeout=0.1)  # behind: not one entry
    flow.release()
    replayed = [(await ws.receive_json_from())["comment"]["id"] for _ in commented]
    assert replayed == [comment.pk for comment in commented]
    assert await ws.receive_json_from() == {"type": "replay_complete", "last_id": commented[-1].pk, "truncated": False}
    await ws.disconnect()


async def test_a_client_behind_for_a_whole_heartbeat_is_closed_with_4410(
    post: Post, token: str, commented: list[Comment], realtime_clock: ManualClock
) -> None:
    flow = HeldFlow()
    ws = WebsocketCommunicator(behind(flow), f"/ws/live-comments/{post.pk}?token={token}&since=0")
    assert await ws.connect() == (True, None)
    await receive_presence_state(ws, f"comments:{post.pk}")  # not an entry of the feed: not paced
    await asyncio.wait_for(flow.waited_on.wait(), 10)  # the replay has read its first page and waits
    await realtime_clock.advance(PATIENCE - 0.1)
    assert await ws.receive_nothing(timeout=0.1)
    await realtime_clock.advance(0.1)
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4410, "reason": ""}
    await ws.disconnect()


async def test_a_topic_on_ws_is_paced_the_same(post: Post, token: str, commented: list[Comment]) -> None:
    flow = HeldFlow()
    ws = WebsocketCommunicator(behind(flow), f"/ws/?token={token}")
    assert await ws.connect() == (True, None)
    topic = f"comments:{post.pk}"
    await ws.send_json_to({"type": "subscribe", "topic": topic, "since": 0})
    assert await ws.receive_json_from() == {"type": "subscribed", "topic": topic}
    await receive_presence_state(ws, topic)
    await asyncio.wait_for(flow.waited_on.wait(), 10)
    assert await ws.receive_nothing(timeout=0.1)
    flow.release()
    replayed = [(await ws.receive_json_from())["comment"]["id"] for _ in commented]
    assert replayed == [comment.pk for comment in commented]
    await ws.disconnect()
