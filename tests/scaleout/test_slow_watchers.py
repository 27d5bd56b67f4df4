"""A watcher too slow for its live events is closed with 4410, alone; it reconnects with `since` and loses nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from comments.models import Post
from comments.services import comment_create
from comments.topics import CommentsTopic
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.feeds.subscription import Subscription
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)

COMMENTS = 60
# One comment every 20 ms: the fast watcher empties its queue between two, the slow one cannot.
PACE = 0.01


async def watch(post: Post, user: Any, query: str = "") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={issue_token(user)}{query}")
    assert await communicator.connect() == (True, None)
    await receive_presence_state(communicator, f"comments:{post.pk}", user)
    return communicator


async def comment_ids(communicator: WebsocketCommunicator, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        frame = await communicator.receive_json_from(timeout=5)
        assert frame["type"] == "comment"
        ids.append(frame["comment"]["id"])
    return ids


async def test_a_slow_watcher_is_closed_with_4410_and_catches_up_with_since(
    post: Post, user: Any, other_user: Any, realtime_settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    realtime_settings.CHANNEL_BACKLOG_LIMIT = 10
    deliver = CommentsTopic.created

    async def slow_for_bob(self: CommentsTopic, subscription: Subscription, event: Any) -> None:
        if subscription.consumer.scope["user"].username == "bob":
            await asyncio.sleep(0.05)  # bob's client reads far slower than comments come
        await deliver(self, subscription, event)

    monkeypatch.setattr(CommentsTopic, "created", slow_for_bob)
    fast, slow = await watch(post, user), await watch(post, other_user)
    create = database_sync_to_async(comment_create)
    written = []
    for number in range(COMMENTS):
        written.append((await create(post_id=post.pk, author=user, body=f"#{number}", client_id=None))[0].pk)
        await asyncio.sleep(PACE)

    assert await comment_ids(fast, COMMENTS) == written
    received: list[int] = []
    while (output := await slow.receive_output(timeout=5))["type"] == "websocket.send":
        received.append(int(output["text"].split('"id":')[1].split(",")[0]))
    assert output == {"type": "websocket.close", "code": 4410, "reason": ""}
    assert received == written[: len(received)]
    assert len(received) < COMMENTS
    assert "fell behind: more than 10 live events waiting; closing with 4410" in caplog.text
    await slow.disconnect()

    monkeypatch.setattr(CommentsTopic, "created", deliver)
    since = received[-1] if received else 0
    again = await watch(post, other_user, f"&since={since}")
    assert await comment_ids(again, COMMENTS - len(received)) == written[len(received) :]
    assert await again.receive_json_from(timeout=5) == {
        "type": "replay_complete",
        "last_id": written[-1],
        "truncated": False,
    }
    await again.disconnect()
    await fast.disconnect()
