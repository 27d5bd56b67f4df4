"""
A connection leaves its groups however it ends, even when the server kills it
while it is leaving them: daphne cancels an application instance that takes
longer than its close timeout to end (C100k, bench/RESULTS.md: under load the
leaves waited on Redis, were cancelled half-way, and the groups kept channels
that nobody read, 6.6 Redis subscriptions a connection where 3 were expected).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from comments.models import Post
from project.asgi import application
from realtime.auth.tokens import issue_token
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)

TURNS = 100  # turns of the event loop given to work that needs no real time


async def turns_until(condition: Any) -> bool:
    for _ in range(TURNS):
        if condition():
            return True
        await asyncio.sleep(0)
    return bool(condition())


def joined(layer: Any, channel: str) -> set[str]:
    """The groups `channel` is in."""
    return {group for group, channels in layer.groups.items() if channel in channels}


@pytest.mark.usefixtures("in_memory_layer")  # whose groups the test reads
async def test_groups_are_left_even_when_the_server_kills_the_instance_while_it_leaves_them(
    post: Post, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = get_channel_layer()
    ws = WebsocketCommunicator(application, f"/ws/?token={issue_token(user)}")
    assert await ws.connect() == (True, None)
    for topic in ("notifications", f"comments:{post.pk}"):
        await ws.send_json_to({"type": "subscribe", "topic": topic})
        assert await ws.receive_json_from() == {"type": "subscribed", "topic": topic}
    await receive_presence_state(ws, f"comments:{post.pk}", user)
    (channel,) = layer.groups[f"realtime.user.{user.pk}"]  # the connection's own channel
    assert joined(layer, channel) == {
        f"realtime.user.{user.pk}",
        f"notifications.user.{user.pk}",
        f"comments.post.{post.pk}",
    }

    leave, leaving, released = layer.group_discard, asyncio.Event(), asyncio.Event()

    async def slow_leave(group: str, channel: str) -> None:  # Redis answering slowly under load
        leaving.set()
        await released.wait()
        await leave(group, channel)

    monkeypatch.setattr(layer, "group_discard", slow_leave)
    await ws.send_input({"type": "websocket.disconnect", "code": 1001})
    await asyncio.wait_for(leaving.wait(), 5)
    ws.future.cancel()  # daphne's application_close_timeout: the instance is killed mid-leave
    await asyncio.sleep(0)
    released.set()
    assert await turns_until(ws.future.done)
    assert await turns_until(lambda: not joined(layer, channel))
