"""
Two real daphne processes on PostgreSQL and Redis (CI sets DATABASE_URL and
REDIS_URL): comments and notifications reach watchers on every process.

Feed checks are slowed to once an hour here, so every delivery below goes
through Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer, database_url_for_tests, start_daphne
from tests.support.presence import next_frame_but_presence

pytestmark = [pytest.mark.services, pytest.mark.wire, pytest.mark.django_db(transaction=True)]

APPLICATION_NAME = "realtime-two-processes"
CAP = 3


@pytest.fixture(scope="module")
def servers(django_db_setup: None, log_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {
        "FEED_CHECK_INTERVAL": "3600",
        "MAX_CONNECTIONS_PER_USER": str(CAP),
        "DATABASE_URL": f"{database_url_for_tests()}?application_name={APPLICATION_NAME}",
    }
    first, second = start_daphne(log_dir, env=env), start_daphne(log_dir, env=env)
    yield first, second
    first.stop()
    second.stop()


async def frame(ws: ClientConnection) -> dict[str, Any]:
    """The next frame about comments (or pong): presence frames are not what these tests are about."""
    return await next_frame_but_presence(ws)


async def comment_body(ws: ClientConnection) -> str:
    received = await frame(ws)
    assert received["type"] == "comment", received
    return str(received["comment"]["body"])


def watch(server: LiveServer, post: Post, user: Any, query: str = "") -> Any:
    return connect(f"{server.ws_url}/ws/live-comments/{post.pk}?token={issue_token(user)}{query}")


async def test_comments_reach_watchers_on_both_processes(
    servers: tuple[LiveServer, LiveServer], post: Post, user: Any, other_user: Any
) -> None:
    first, second = servers
    async with watch(first, post, user) as alice, watch(second, post, other_user) as bob:
        await alice.send(json.dumps({"type": "new_comment", "body": "from the first process"}))
        assert (await frame(alice))["type"] == "comment_created"
        assert [await comment_body(alice), await comment_body(bob)] == ["from the first process"] * 2
        await bob.send(json.dumps({"type": "new_comment", "body": "from the second process"}))
        assert (await frame(bob))["type"] == "comment_created"
        assert [await comment_body(bob), await comment_body(alice)] == ["from the second process"] * 2


async def test_a_notification_reaches_every_connection_on_every_process(
    servers: tuple[LiveServer, LiveServer], user: Any
) -> None:
    first, second = servers
    token = issue_token(user)
    async with (
        connect(f"{first.ws_url}/ws/notifications?token={token}") as on_first,
        connect(f"{second.ws_url}/ws/notifications?token={token}") as on_second,
    ):
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "manage.py", "notify", user.username, "to both"],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DATABASE_URL": database_url_for_tests()},
            check=True,
            capture_output=True,
        )
        for ws in (on_first, on_second):
            received = await frame(ws)
            assert (received["type"], received["payload"]) == ("notification", {"text": "to both"})


async def test_a_client_reconnecting_to_the_other_process_gets_what_it_missed(
    servers: tuple[LiveServer, LiveServer], post: Post, user: Any, other_user: Any
) -> None:
    first, second = servers
    async with watch(first, post, user) as alice:
        for body in ("one", "two", "three"):
            await alice.send(json.dumps({"type": "new_comment", "body": body}))
            await frame(alice)
            await comment_body(alice)
    first_id = await Comment.objects.filter(body="one").values_list("id", flat=True).aget()
    async with watch(second, post, other_user, f"&since={first_id}") as bob:
        assert [await comment_body(bob), await comment_body(bob)] == ["two", "three"]


FIRST_CONNECTIONS = 2


async def test_writes_under_load_hold_no_transaction_and_a_connection_or_two_per_process(
    servers: tuple[LiveServer, LiveServer], post: Post, django_user_model: Any
) -> None:
    writers = [await django_user_model.objects.acreate(username=f"writer{n}") for n in range(20)]
    samples: list[tuple[int, int]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append(await asyncio.to_thread(_daphne_connections))
            await asyncio.sleep(0.05)

    async def write(n: int, writer: Any) -> None:
        async with watch(servers[n % 2], post, writer) as ws:
            for number in range(10):
                await ws.send(json.dumps({"type": "new_comment", "body": f"{n}-{number}", "client_id": str(number)}))
                while (await frame(ws))["type"] != "comment_created":
                    pass

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(write(n, writer) for n, writer in enumerate(writers)))
    stop.set()
    await sampler
    assert await Comment.objects.filter(post=post).acount() == 200
    # Each process's database work runs in one thread: the pool lends it one connection at a time, and opens a
    # second only if the first handshake came before its first connection was ready. However many writers.
    assert max(total for total, _ in samples) <= 2 * FIRST_CONNECTIONS
    total, in_transaction = await asyncio.to_thread(_daphne_connections)
    assert (total <= 2 * FIRST_CONNECTIONS, in_transaction) == (True, 0)  # and none left in a transaction


def _daphne_connections() -> tuple[int, int]:
    """The daphne processes' connections to the test database: all, and those idle in a transaction."""
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres"
    ) as probe:
        row = probe.execute(
            "SELECT count(*), count(*) FILTER (WHERE state LIKE 'idle in transaction%%') "
            "FROM pg_stat_activity WHERE application_name = %s",
            [APPLICATION_NAME],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def test_the_cap_on_a_users_connections_holds_across_processes(
    servers: tuple[LiveServer, LiveServer], user: Any
) -> None:
    first, second = servers
    token = issue_token(user)
    urls = [f"{server.ws_url}/ws/notifications?token={token}" for server in (first, second, first)]
    opened = [await connect(url) for url in urls]  # CAP = 3, over both processes
    for server in (first, second):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/ws/notifications?token={token}"):
                pass
        assert refused.value.response.status_code == 403
    await opened[1].close()
    await asyncio.sleep(0.3)  # the slot is given back when the server sees the close
    async with connect(f"{second.ws_url}/ws/notifications?token={token}") as again:
        await again.send('{"type": "ping"}')
        assert await frame(again) == {"type": "pong"}
    for ws in (opened[0], opened[2]):
        await ws.close()
