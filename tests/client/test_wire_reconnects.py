"""
`RealtimeClient` across reconnects, against real daphnes (PROTOCOL.md, "Nothing
lost across reconnects"): a server killed in the middle of a replay and started
again on the same port, and a replay the server truncated, filled from the
history endpoint. Each topic's entries reach the `async for` once, in order.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from comments.models import Post
from realtime.auth.tokens import issue_token
from realtime.client import Frame, RealtimeClient
from tests.client.helpers import WAIT, comment_frame_of, comments_in_bulk, presence_state_of, take, ws_url
from tests.support.live import LiveServer, start_daphne

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

LONG_REPLAY = 3000
# Retries every few tens of milliseconds while the new server starts.
MIN_DELAY, MAX_DELAY = 0.05, 0.2


async def test_a_server_killed_in_the_middle_of_a_replay_loses_and_repeats_nothing(
    post: Post, user: Any, log_dir: Path
) -> None:
    comments = await asyncio.to_thread(comments_in_bulk, post, user, LONG_REPLAY, size=1000)
    topic = f"comments:{post.pk}"
    env = {"REPLAY_LIMIT": str(LONG_REPLAY + 1)}
    server = await asyncio.to_thread(start_daphne, log_dir, env=env)
    frames: list[Frame] = []
    killed = False
    try:
        async with RealtimeClient(
            ws_url(server), token=issue_token(user), min_delay=MIN_DELAY, max_delay=MAX_DELAY
        ) as client:
            subscription = await client.subscribe(topic, since=0)
            async for frame in subscription:
                frames.append(frame)
                if frame["type"] == "comment" and not killed:
                    killed = True
                    server.process.send_signal(signal.SIGKILL)
                    await asyncio.to_thread(server.process.wait, WAIT)
                    server = await asyncio.to_thread(start_daphne, log_dir, env=env, port=server.port)
                if frame["type"] == "replay_complete":
                    break
            connections = client.connections
    finally:
        server.stop()

    kinds = [frame["type"] for frame in frames]
    cut = kinds.index("subscribed", 1)
    # The first connection's replay was cut short (no replay_complete before the second subscribe)...
    assert kinds[:cut] == ["subscribed", "presence_state", *["comment"] * (cut - 2)]
    assert 0 < cut - 2 < LONG_REPLAY
    # ...and the second one replayed the rest: every comment once, in order.
    assert kinds[cut:] == ["subscribed", "presence_state", *["comment"] * (LONG_REPLAY - cut + 2), "replay_complete"]
    assert [frame for frame in frames if frame["type"] == "comment"] == [comment_frame_of(c, topic) for c in comments]
    assert connections == 2


async def test_a_truncated_replay_is_filled_from_the_history_before_later_live_entries(
    brisk_server: LiveServer, post: Post, user: Any
) -> None:
    comments = await asyncio.to_thread(comments_in_bulk, post, user, 12)
    topic = f"comments:{post.pk}"
    async with RealtimeClient(ws_url(brisk_server), token=issue_token(user)) as client:
        subscription = await client.subscribe(topic, since=comments[2].pk)
        # Sent before the consumer reads anything: it arrives after the truncated replay_complete.
        ack = await subscription.send({"type": "new_comment", "body": "live"})
        assert ack is not None
        frames = await take(subscription, 2 + 9 + 2)
        connections = client.connections
    live = await post.comments.select_related("author").aget(pk=ack["comment_id"])
    assert frames == [
        {"type": "subscribed", "topic": topic},
        presence_state_of(topic, user),
        *[comment_frame_of(comment, topic) for comment in comments[3:]],
        {"type": "replay_complete", "last_id": comments[-1].pk, "truncated": False, "topic": topic, "filled": True},
        comment_frame_of(live, topic),
    ]
    assert connections == 1
