"""
Resuming over SSE (realtime/sse/consumer.py): a topic of `Last-Event-ID` whose resume the user's replay
budget refuses stays in the cursor where it stood, so that the next request resumes it; nothing of it is
forgotten. In process, on the stack a stream runs on (views.stream_application), with the budget at one entry.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from comments.models import Post
from realtime.auth.tokens import issue_token
from realtime.sse import cursor
from realtime.sse.consumer import SCOPE_KEY
from realtime.sse.stream import Stream
from realtime.sse.views import ENDPOINT, stream_application
from realtime.testing import ManualClock
from tests.client.helpers import comments_in_bulk

pytestmark = [pytest.mark.django_db(transaction=True)]


def scope_of(user: Any, resume: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": ENDPOINT,
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {issue_token(user)}".encode())],
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
        SCOPE_KEY: {"topics": [], "resume": resume},
    }


async def events_until(opened: Stream, wanted: str) -> list[tuple[dict[str, Any], str | None]]:
    """The stream's events (frame, id) up to the first frame of type `wanted` or an error."""

    found: list[tuple[dict[str, Any], str | None]] = []
    async for chunk in opened.events():
        lines = chunk.decode().strip().split("\n")
        data = [line[6:] for line in lines if line.startswith("data: ")]
        ids = [line[4:] for line in lines if line.startswith("id: ")]
        if data:
            frame = json.loads(data[0])
            found.append((frame, ids[0] if ids else None))
            if frame["type"] in (wanted, "error"):
                break
    return found


async def test_a_resume_the_replay_budget_refuses_stays_in_the_cursor_where_it_stood(
    post: Post, user: Any, realtime_clock: ManualClock, realtime_settings: Any, realtime_isolation: None
) -> None:
    realtime_settings.RATE_LIMIT_REPLAY_ENTRIES_BURST = 1  # one replay, then none until the clock moves
    await asyncio.to_thread(comments_in_bulk, post, user, 1)
    topic = f"comments:{post.pk}"
    resume = {topic: ("i", 0)}

    first = Stream(scope_of(user, resume), stream_application(), user.pk)
    assert await first.start() is None
    replayed = await events_until(first, "replay_complete")
    assert [frame["type"] for frame, _ in replayed if frame["type"] != "presence_state"] == [
        "connected",
        "subscribed",
        "comment",
        "replay_complete",
    ]

    second = Stream(scope_of(user, resume), stream_application(), user.pk)
    assert await second.start() is None
    refused = await events_until(second, "subscribed")
    frame, event_id = refused[-1]
    assert (frame["type"], frame["code"], frame["topic"]) == ("error", "rate_limited", topic)
    assert event_id is not None
    assert cursor.decode(event_id) == resume  # where it stood: the next request resumes it
