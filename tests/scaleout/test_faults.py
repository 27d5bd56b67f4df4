"""
Faults: Redis missing at start, Redis lost while running, PostgreSQL lost during
a write. Services are taken away through a TCP proxy, never stopped.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer, database_url_for_tests, free_port, start_daphne
from tests.support.presence import next_frame_but_presence
from tests.support.proxy import TcpProxy, database_url_via, redis_url_via

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]


async def frame(ws: ClientConnection, wait: float = 10) -> dict[str, Any]:
    """The next frame about comments (or pong): presence frames are not what these tests are about."""
    return await next_frame_but_presence(ws, wait)


async def write(ws: ClientConnection, body: str, client_id: str) -> dict[str, Any]:
    """Send a comment and return the author's answer to it (an ack or an error)."""
    await ws.send(json.dumps({"type": "new_comment", "body": body, "client_id": client_id}))
    while (answer := await frame(ws))["type"] not in ("comment_created", "error"):
        pass
    return answer


async def bodies(ws: ClientConnection, count: int, wait: float = 10) -> list[str]:
    received: list[str] = []
    while len(received) < count:
        item = await frame(ws, wait)
        if item["type"] == "comment":
            received.append(item["comment"]["body"])
    return received


def test_redis_missing_at_start_is_one_clear_error_naming_redis_url(django_db_setup: None) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, "-m", "daphne", "-p", str(free_port()), "project.asgi:application"],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": url, "DATABASE_URL": database_url_for_tests()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Cannot reach Redis at REDIS_URL={url} (")
    assert result.stderr.strip().endswith(
        "Start Redis or correct REDIS_URL; unset REDIS_URL to run one process on the in-memory channel layer."
    )
    assert "Traceback" not in result.stderr


# --- Redis lost while running -----------------------------------------------------


@pytest.fixture
def servers_behind_redis_proxy(redis_proxy: TcpProxy, log_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    # Feed checks every hour: what arrives after the outage came back through Redis.
    env = {"REDIS_URL": redis_url_via(redis_proxy), "FEED_CHECK_INTERVAL": "3600"}
    pair = (start_daphne(log_dir, env=env), start_daphne(log_dir, env=env))
    yield pair
    for server in pair:
        server.stop()


@pytest.mark.services
async def test_losing_redis_loses_nothing_and_crashes_no_consumer(
    servers_behind_redis_proxy: tuple[LiveServer, LiveServer],
    redis_proxy: TcpProxy,
    post: Post,
    user: Any,
    other_user: Any,
) -> None:
    first, second = servers_behind_redis_proxy
    url = f"/ws/live-comments/{post.pk}?token="
    async with (
        connect(first.ws_url + url + issue_token(user)) as writer,
        connect(second.ws_url + url + issue_token(other_user)) as watcher,
    ):
        assert (await write(writer, "before", "1"))["type"] == "comment_created"
        assert await bodies(watcher, 1) == ["before"]

        redis_proxy.cut()
        assert (await write(writer, "during", "2"))["type"] == "comment_created"  # acked: it is in the database
        async with connect(second.ws_url + url + issue_token(other_user)) as newcomer:  # still accepted
            await newcomer.send('{"type": "ping"}')
            assert await frame(newcomer) == {"type": "pong"}

        redis_proxy.restore()
        # Write until the live path is back (redis-py reconnects within seconds). The first
        # comment that arrives live reveals the gap: the watcher reads what it missed from
        # the database first, so it gets everything, in order, once.
        for attempt in range(30):
            assert (await write(writer, f"after {attempt}", f"3-{attempt}"))["type"] == "comment_created"
            try:
                first_live = await bodies(watcher, 1, wait=1)
            except TimeoutError:
                continue
            break
        rest = await bodies(watcher, attempt + 1)
        assert first_live + rest == ["during"] + [f"after {n}" for n in range(attempt + 1)]
    for server in (first, second):
        assert "Exception inside application" not in server.log()


@pytest.mark.services
async def test_losing_redis_is_one_warning_and_its_return_one_line(
    servers_behind_redis_proxy: tuple[LiveServer, LiveServer], redis_proxy: TcpProxy, post: Post, user: Any
) -> None:
    url = f"/ws/live-comments/{post.pk}?token={issue_token(user)}"
    async with connect(servers_behind_redis_proxy[0].ws_url + url), connect(servers_behind_redis_proxy[1].ws_url + url):
        redis_proxy.cut()
        await asyncio.sleep(3)  # channels-redis would log a traceback a second meanwhile
        redis_proxy.restore()
        for _ in range(150):
            if all("Channel layer available again" in server.log() for server in servers_behind_redis_proxy):
                break
            await asyncio.sleep(0.1)
    for server in servers_behind_redis_proxy:
        log = server.log()
        assert (log.count("Channel layer unavailable"), log.count("Channel layer available again")) == (1, 1)
        assert "Unexpected exception in receive task" not in log
        assert "Traceback" not in log


# --- PostgreSQL lost during a write -------------------------------------------------


@pytest.fixture
def server_behind_database_proxy(database_proxy: TcpProxy, log_dir: Path) -> Iterator[tuple[LiveServer, TcpProxy]]:
    server = start_daphne(log_dir, env={"DATABASE_URL": database_url_via(database_proxy)})
    yield server, database_proxy
    server.stop()


@pytest.mark.services
async def test_a_write_while_postgres_is_away_is_refused_and_a_retry_after_lands_once(
    server_behind_database_proxy: tuple[LiveServer, TcpProxy], post: Post, user: Any
) -> None:
    server, proxy = server_behind_database_proxy
    async with connect(f"{server.ws_url}/ws/live-comments/{post.pk}?token={issue_token(user)}") as ws:
        assert (await write(ws, "first", "a"))["type"] == "comment_created"
        proxy.cut()
        assert await write(ws, "second", "b") == {
            "type": "error",
            "code": "unavailable",
            "message": "The comment could not be saved; send it again with the same client_id.",
        }
        proxy.restore()
        retried = await write(ws, "second", "b")
        assert retried["type"] == "comment_created"
        assert await write(ws, "second", "b") == retried  # and once more: still the same comment
    assert [c async for c in Comment.objects.order_by("id").values_list("body", "client_id")] == [
        ("first", "a"),
        ("second", "b"),
    ]
    assert "Exception inside application" not in server.log()


async def handshake_status(url: str) -> int:
    """101 for a connection that opens and answers a ping, or the HTTP status that refused it."""
    try:
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert await frame(ws) == {"type": "pong"}
    except InvalidStatus as refused:
        return int(refused.response.status_code)
    return 101


@pytest.mark.services
async def test_handshakes_while_postgres_is_away_get_http_403_and_succeed_once_it_is_back(
    server_behind_database_proxy: tuple[LiveServer, TcpProxy], post: Post, user: Any
) -> None:
    server, proxy = server_behind_database_proxy
    token = issue_token(user)
    urls = [
        f"{server.ws_url}/ws/notifications?token={token}",
        f"{server.ws_url}/ws/live-comments/{post.pk}?token={token}",
    ]
    proxy.cut()
    for url in urls:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass
        assert refused.value.response.status_code == 403
    refusals = len(urls)
    proxy.restore()
    # A client tries again, as the clients do after 403: the pool connects again within
    # realtime.pools' FAIL_FAST, or its probe's PROBE_INTERVAL on a busy machine.
    for url in urls:
        for _ in range(50):
            status = await handshake_status(url)
            if status == 101:
                break
            assert status == 403
            refusals += 1
            await asyncio.sleep(0.1)
        else:
            pytest.fail(f"{url} still refused after the database came back")
    log = server.log()
    assert log.count("the database is unavailable (OperationalError)") == refusals
    assert "Exception inside application" not in log
    assert token not in log
