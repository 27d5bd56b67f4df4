"""
The frames servers really send are the ones the TypedDicts declare (schema.py),
and so the ones client.d.ts declares: a session on `/ws/` (the real stack, on a
manual clock) that makes the server send every frame of a topic and of the
connection, and an SSE stream over the wire (its `connected` and `close`), each
frame checked key by key against its TypedDict, plus `topic` and `ref`.
Every declared frame type must be sent by one of them: a TypedDict nobody sends,
or a frame nobody declared, fails here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from comments.models import Comment, Post
from comments.services import comment_create, comments_delete, comments_hide, comments_unhide
from notifications.services import anotify_user
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.db import database_sync_to_async
from realtime.testing import ManualClock
from tests.support import sse
from tests.support.live import LiveServer
from tests.support.tokens import signed
from tests.typescript import schema

pytestmark = pytest.mark.django_db(transaction=True)

# What the session below makes the server send, and what only an SSE stream sends.
SENT_ON_WS = {
    "subscribed", "unsubscribed", "replay_complete", "presence_state", "presence_diff", "typing", "notification",
    "comment", "comment_created", "comment_hidden", "comment_unhidden", "comment_deleted", "error", "ping", "pong",
    "refreshed",
}  # fmt: skip
SENT_ON_SSE_ONLY = {"connected", "close"}
PRESENCE_INTERVAL = 1.0
HEARTBEAT_INTERVAL = 30.0

create_comment = database_sync_to_async(comment_create)
hide, unhide, delete = map(database_sync_to_async, (comments_hide, comments_unhide, comments_delete))


class Session:
    """A `/ws/` connection of `user` that keeps every frame it receives, in order."""

    def __init__(self, user: Any) -> None:
        self.ws = WebsocketCommunicator(application, f"/ws/?token={issue_token(user)}")
        self.frames: list[dict[str, Any]] = []

    async def __aenter__(self) -> Session:
        assert await self.ws.connect() == (True, None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.disconnect()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json_to(message)

    async def until(self, frame_type: str) -> dict[str, Any]:
        """Receive (and keep) frames up to the first of `frame_type`."""
        while True:
            frame: dict[str, Any] = await self.ws.receive_json_from(timeout=3)
            self.frames.append(frame)
            if frame.get("type") == frame_type:
                return frame


def test_every_declared_frame_type_is_sent_by_a_test_here() -> None:
    assert set(schema.frames()) == SENT_ON_WS | SENT_ON_SSE_ONLY


async def test_a_session_on_ws_gets_only_declared_frames_and_every_one_of_them(
    post: Post, user: Any, other_user: Any, realtime_settings: Any, realtime_clock: ManualClock
) -> None:
    realtime_settings.PRESENCE_INTERVAL = PRESENCE_INTERVAL
    realtime_settings.HEARTBEAT_INTERVAL = HEARTBEAT_INTERVAL
    topic = f"comments:{post.pk}"
    earlier, _ = await create_comment(post_id=post.pk, author=other_user, body="Earlier", client_id=None)
    await anotify_user(user, {"text": "Earlier"})
    async with Session(user) as alice, Session(other_user) as bob:
        await alice.send({"type": "subscribe", "topic": topic, "since": 0, "ref": "s1"})
        await alice.until("replay_complete")  # subscribed, presence_state, the comment, replay_complete
        await alice.send({"type": "subscribe", "topic": "notifications", "since": 0})
        await alice.until("replay_complete")
        await bob.send({"type": "subscribe", "topic": topic})
        await bob.until("presence_state")
        await realtime_clock.advance(PRESENCE_INTERVAL)
        await alice.until("presence_diff")
        await bob.send({"type": "typing", "topic": topic})
        await alice.until("typing")

        await alice.send({"type": "new_comment", "topic": topic, "body": "Mine", "client_id": "c1", "ref": "c1"})
        await alice.until("comment_created")
        await alice.until("comment")
        await hide(comments=Comment.objects.filter(pk=earlier.pk))
        await alice.until("comment_hidden")
        await unhide(comments=Comment.objects.filter(pk=earlier.pk))
        await alice.until("comment_unhidden")
        await delete(comments=Comment.objects.filter(pk=earlier.pk))
        await alice.until("comment_deleted")
        await anotify_user(user, {"text": "Live", "count": 2})
        await alice.until("notification")

        await alice.send({"type": "ping"})
        await alice.until("pong")
        await alice.send({"type": "refresh", "token": issue_token(user)})
        await alice.until("refreshed")
        await alice.send({"type": "new_comment", "topic": topic, "body": " ", "ref": "c2"})  # a blank body
        await alice.until("error")
        await alice.send({"type": "unsubscribe", "topic": topic, "ref": "u1"})
        await alice.until("unsubscribed")
        await realtime_clock.advance(HEARTBEAT_INTERVAL)
        await alice.until("ping")

    assert [problem for frame in alice.frames for problem in schema.problems(frame, labelled=True)] == []
    assert {frame["type"] for frame in alice.frames} == SENT_ON_WS


@pytest.mark.wire
async def test_an_sse_stream_gets_only_declared_frames_from_connected_to_close(
    daphne_server: LiveServer, user: Any
) -> None:
    token = signed(sub=str(user.pk), exp=time.time() + 2)  # the stream ends with close 4401 when it expires
    await anotify_user(user, {"text": "Before"})
    stream = await sse.open_stream(
        daphne_server.host,
        daphne_server.port,
        "/realtime/sse?topic=notifications",
        {"Authorization": f"Bearer {token}"},
    )
    try:
        assert stream.status == 200, stream.body
        frames = await asyncio.wait_for(stream.frames_until("close"), 10)
    finally:
        stream.close()
    assert [frame["type"] for frame in frames] == ["connected", "subscribed", "close"]
    assert [problem for frame in frames for problem in schema.problems(frame, labelled=True)] == []
