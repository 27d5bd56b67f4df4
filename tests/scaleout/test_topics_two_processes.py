"""
`/ws/` on two real daphne processes over PostgreSQL and Redis: one connection
following a hundred topics, subscriptions churning while comments flow, and
replay per topic (PROTOCOL.md, "One connection, many topics").

Feed checks are slowed to once an hour, so every live delivery goes through Redis.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer, start_daphne
from tests.support.presence import next_frame_but_presence

pytestmark = [pytest.mark.services, pytest.mark.wire, pytest.mark.django_db(transaction=True)]

TOPICS = 100
# A guard against a hung test, not a measurement.
RECEIVE_TIMEOUT = 10


@pytest.fixture(scope="module")
def servers(django_db_setup: None, log_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {"FEED_CHECK_INTERVAL": "3600", "MAX_TOPICS_PER_CONNECTION": str(TOPICS)}
    first, second = start_daphne(log_dir, env=env), start_daphne(log_dir, env=env)
    yield first, second
    first.stop()
    second.stop()


def open_ws(server: LiveServer, user: Any) -> Any:
    return connect(f"{server.ws_url}/ws/?token={issue_token(user)}")


async def frame(ws: ClientConnection) -> dict[str, Any]:
    """The next frame that is not about presence (tests/scaleout/test_presence_two_processes.py is)."""
    return await next_frame_but_presence(ws, RECEIVE_TIMEOUT)


async def send(ws: ClientConnection, **message: Any) -> None:
    await ws.send(json.dumps(message))


async def follow(ws: ClientConnection, topics: list[str], **fields: Any) -> None:
    """Subscribe to every topic, in one burst, and read the `subscribed` of each (refs echoed)."""
    for number, topic in enumerate(topics):
        await send(ws, type="subscribe", topic=topic, ref=str(number), **fields)
    answers = [await frame(ws) for _ in topics]
    assert answers == [{"type": "subscribed", "topic": t, "ref": str(n)} for n, t in enumerate(topics)]


async def test_one_connection_follows_a_hundred_topics_written_on_the_other_process(
    servers: tuple[LiveServer, LiveServer], user: Any, other_user: Any
) -> None:
    first, second = servers
    posts = [await Post.objects.acreate(title=f"Post {n}") for n in range(TOPICS)]
    topics = [f"comments:{post.pk}" for post in posts]
    async with open_ws(first, user) as reader, open_ws(second, other_user) as writer:
        await follow(reader, topics)
        await follow(writer, topics)
        for topic in topics:
            await send(writer, type="new_comment", topic=topic, body=f"on {topic}", client_id="1")
        received = [await frame(reader) for _ in topics]
    by_topic = {got["topic"]: got for got in received}
    assert sorted(by_topic) == sorted(topics)
    assert all(got["type"] == "comment" and got["comment"]["body"] == f"on {t}" for t, got in by_topic.items())
    assert await Comment.objects.acount() == TOPICS


async def test_a_reconnecting_client_replays_each_topic_from_its_own_last_id(
    servers: tuple[LiveServer, LiveServer], user: Any
) -> None:
    first, second = servers
    chatty, quiet = await Post.objects.acreate(title="Chatty"), await Post.objects.acreate(title="Quiet")
    ids: dict[str, list[int]] = {}
    for post, count in ((chatty, 3), (quiet, 1)):
        async with open_ws(first, user) as ws:
            topic = f"comments:{post.pk}"
            await follow(ws, [topic])
            for number in range(count):
                await send(ws, type="new_comment", topic=topic, body=str(number))
                ack, _ = await frame(ws), await frame(ws)
                ids.setdefault(topic, []).append(ack["comment_id"])
    chatty_topic, quiet_topic = f"comments:{chatty.pk}", f"comments:{quiet.pk}"
    async with open_ws(second, user) as ws:
        await send(ws, type="subscribe", topic=chatty_topic, since=ids[chatty_topic][0])
        await send(ws, type="subscribe", topic=quiet_topic, since=ids[quiet_topic][-1])
        frames = [await frame(ws) for _ in range(6)]
    assert [(f["type"], f.get("comment", {}).get("id", f.get("last_id"))) for f in frames] == [
        ("subscribed", None),
        ("comment", ids[chatty_topic][1]),
        ("comment", ids[chatty_topic][2]),
        ("replay_complete", ids[chatty_topic][2]),
        ("subscribed", None),
        ("replay_complete", ids[quiet_topic][0]),
    ]
    assert [f["topic"] for f in frames] == [chatty_topic] * 4 + [quiet_topic] * 2


async def test_churning_subscriptions_while_comments_flow_loses_and_leaks_nothing(
    servers: tuple[LiveServer, LiveServer], post: Post, user: Any, other_user: Any
) -> None:
    """
    The reader follows the post, reads a little, unsubscribes, and comes back
    with `since` = the last id it saw, again and again, on one process, while
    the writer comments on the other. Between `unsubscribed` and the next
    `subscribed` nothing of the post arrives; across all the windows every
    comment arrives exactly once, in order.
    """
    first, second = servers
    topic = f"comments:{post.pk}"
    written: list[int] = []
    seen: list[int] = []
    writing_done = asyncio.Event()

    async def write() -> None:
        async with open_ws(second, other_user) as writer:
            await follow(writer, [topic])
            for number in range(60):
                await send(writer, type="new_comment", topic=topic, body=str(number))
                while (got := await frame(writer))["type"] != "comment_created":
                    pass
                written.append(got["comment_id"])
                await asyncio.sleep(0.005)
        writing_done.set()

    async def churn(reader: ClientConnection) -> None:
        cycles = 0
        while not writing_done.is_set() or cycles < 2:
            cycles += 1
            await send(reader, type="subscribe", topic=topic, since=seen[-1] if seen else 0)
            assert await frame(reader) == {"type": "subscribed", "topic": topic}
            while (got := await frame(reader))["type"] != "replay_complete":
                seen.append(got["comment"]["id"])
            assert got["last_id"] == (seen[-1] if seen else 0)
            await asyncio.sleep(0.02)  # live comments meanwhile
            await send(reader, type="unsubscribe", topic=topic)
            while (got := await frame(reader))["type"] != "unsubscribed":
                assert (got["type"], got["topic"]) == ("comment", topic)
                seen.append(got["comment"]["id"])
            await send(reader, type="ping")
            assert await frame(reader) == {"type": "pong"}  # nothing of the post came after unsubscribed

    async with open_ws(first, user) as reader:
        await asyncio.gather(write(), churn(reader))
    assert seen == written
