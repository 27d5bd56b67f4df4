"""
Replay amplification over the wire (PROTOCOL.md, "Slow and hostile clients"):
one account looping `subscribe` with `since: 0` and `unsubscribe` over several
sockets of a plain daphne replays only what its budget allows, is answered
`rate_limited` past it, and another user's replays go on as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from websockets.asyncio.client import ClientConnection, connect

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer, start_daphne

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

COMMENTS = 30
# Each replay of the post reads its 30 ids and its 30 entries, and counts one for the query: 61 of the
# budget's 100. The first leaves 39, the second goes into debt, the rest are refused.
BUDGET = {"RATE_LIMIT_REPLAY_ENTRIES_BURST": "100", "RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND": "0.001"}
SOCKETS, ROUNDS = 3, 4


@pytest.fixture(scope="module")
def budgeted_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    server = start_daphne(log_dir, env=BUDGET, plain=True)
    yield server
    server.stop()


@pytest.fixture
def long_post(user: Any) -> Post:
    post = Post.objects.create(title="Replayed")
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(post=post, author=user, body=f"{n} " + "x" * 500, seq=n, created_at=now) for n in range(1, COMMENTS + 1)
    )
    Post.objects.filter(pk=post.pk).update(last_comment_seq=COMMENTS)
    return post


async def replay_once(ws: ClientConnection, topic: str) -> str:
    """Subscribe with since 0: "replayed" (then unsubscribed again), or the code of the error it got."""
    await ws.send(json.dumps({"type": "subscribe", "topic": topic, "since": 0}))
    first = json.loads(await ws.recv())
    if first["type"] == "error":
        assert first["topic"] == topic
        return str(first["code"])
    assert first == {"type": "subscribed", "topic": topic}
    comments = 0
    while (frame := json.loads(await ws.recv()))["type"] != "replay_complete":
        comments += frame["type"] == "comment"
    assert comments == COMMENTS
    await ws.send(json.dumps({"type": "unsubscribe", "topic": topic}))
    while json.loads(await ws.recv())["type"] != "unsubscribed":
        pass
    return "replayed"


async def test_one_accounts_replay_loop_is_cut_at_its_budget_and_another_user_replays(
    budgeted_server: LiveServer, long_post: Post, user: Any, other_user: Any
) -> None:
    topic = f"comments:{long_post.pk}"
    url = f"{budgeted_server.ws_url}/ws/?token={issue_token(user)}"
    outcomes: list[str] = []
    async with connect(url) as first, connect(url) as second, connect(url) as third:
        for _ in range(ROUNDS):
            for ws in (first, second, third):
                outcomes.append(await replay_once(ws, topic))
    async with connect(f"{budgeted_server.ws_url}/ws/?token={issue_token(other_user)}") as bystander:
        bystanders = [await replay_once(bystander, topic) for _ in range(2)]

    assert outcomes == ["replayed", "replayed"] + ["rate_limited"] * (SOCKETS * ROUNDS - 2)
    assert bystanders == ["replayed", "replayed"]
