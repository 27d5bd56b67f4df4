"""
Redis and PostgreSQL taken away (through a TCP proxy) while two daphne processes
serve writers and watchers of one post: every acknowledged comment is stored
exactly once, every watcher ends with every comment in order, and nothing
crashes. Clients behave as PROTOCOL.md asks (tests/support/resilient.py).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from realtime.close_codes import CLOSE_UNAVAILABLE
from tests.support.live import LiveServer, start_daphne
from tests.support.proxy import TcpProxy, database_url_via, redis_url_via
from tests.support.resilient import Acks, Follower, Progress, Writer

pytestmark = [pytest.mark.wire, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WRITERS = 10
WATCHERS = 40
WATCHERS_PER_USER = 10  # under MAX_CONNECTIONS_PER_USER, reconnects included
ACKS_PER_PHASE = 30
DEADLINE = 30.0


def pair_of_servers(log_dir: Path, env: dict[str, str]) -> Iterator[tuple[LiveServer, LiveServer]]:
    pair = (start_daphne(log_dir, env=env), start_daphne(log_dir, env=env))
    yield pair
    for server in pair:
        server.stop()


@pytest.fixture
def servers_behind_redis_proxy(redis_proxy: TcpProxy, log_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Default FEED_CHECK_INTERVAL: live events lost with Redis are found by the feed checks too."""
    yield from pair_of_servers(log_dir, {"REDIS_URL": redis_url_via(redis_proxy)})


@pytest.fixture
def servers_behind_database_proxy(database_proxy: TcpProxy, log_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from pair_of_servers(log_dir, {"DATABASE_URL": database_url_via(database_proxy)})


class Load:
    """WRITERS writers and WATCHERS watchers of `post`, spread over both servers."""

    def __init__(self, servers: tuple[LiveServer, LiveServer], post: Post, tokens: list[str]) -> None:
        def url(n: int, token: str) -> str:
            return f"{servers[n % 2].ws_url}/ws/live-comments/{post.pk}?token={token}"

        self.post = post
        self.progress = Progress()
        self.acks = Acks(self.progress)
        self.stop = asyncio.Event()
        self.writers = [Writer(url(n, tokens[n]), f"w{n}", self.acks) for n in range(WRITERS)]
        watcher_tokens = tokens[WRITERS:]
        self.watchers = [
            Follower(url(n, watcher_tokens[n // WATCHERS_PER_USER]), self.progress) for n in range(WATCHERS)
        ]
        self._writing = [asyncio.create_task(writer.run(self.stop)) for writer in self.writers]
        self._watching = [asyncio.create_task(watcher.run()) for watcher in self.watchers]

    async def finish_writing(self) -> None:
        """Stop the writers once their comment in flight is acknowledged."""
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self._writing), timeout=DEADLINE)

    async def stored_ids(self) -> list[int]:
        return [pk async for pk in Comment.objects.filter(post=self.post).order_by("id").values_list("id", flat=True)]

    async def watchers_caught_up(self, expected: list[int]) -> None:
        """Wait until every watcher saw as many comments as were stored (what they saw is checked after)."""
        try:
            async with asyncio.timeout(DEADLINE):
                await self.progress.until(lambda: all(len(w.seen) >= len(expected) for w in self.watchers))
        finally:
            await asyncio.gather(*(watcher.stop() for watcher in self.watchers))
            await asyncio.wait_for(asyncio.gather(*self._watching), timeout=DEADLINE)


async def make_tokens(django_user_model: Any) -> list[str]:
    users = [await django_user_model.objects.acreate(username=f"writer{n}") for n in range(WRITERS)]
    users += [
        await django_user_model.objects.acreate(username=f"watcher{n}") for n in range(WATCHERS // WATCHERS_PER_USER)
    ]
    return [issue_token(user) for user in users]


async def run_through_outage(
    load: Load, cut: Callable[[], None], restore: Callable[[], None], felt: Callable[[], Awaitable[None]]
) -> None:
    async with asyncio.timeout(DEADLINE):
        await load.progress.until(lambda: all(w.connections for w in load.watchers))
        await load.acks.reach(ACKS_PER_PHASE)
    cut()
    async with asyncio.timeout(DEADLINE):
        await felt()
    restore()
    async with asyncio.timeout(DEADLINE):
        await load.acks.reach(len(load.acks.ids) + ACKS_PER_PHASE)
    await load.finish_writing()


def assert_no_crash(servers: tuple[LiveServer, LiveServer]) -> None:
    """No consumer crashed: the only tracebacks are channels-redis's own, as it reconnects to Redis."""
    for server in servers:
        log = server.log()
        assert "Exception inside application" not in log
        assert [record.splitlines()[0] for record in log_records(log) if "Traceback" in record] == [
            "ERROR    Unexpected exception in receive task"
        ] * log.count("Unexpected exception in receive task")
        assert "closed by the client with code 1011" not in log


def log_records(log: str) -> list[str]:
    """The log split into records: a line that starts with a date starts a record, lines after it belong to it."""
    return [record for record in re.split(r"^\d{4}-\d\d-\d\d [\d:,]+ ", log, flags=re.MULTILINE) if record]


async def test_redis_cut_under_load_loses_no_comment_and_closes_no_one(
    servers_behind_redis_proxy: tuple[LiveServer, LiveServer],
    redis_proxy: TcpProxy,
    post: Post,
    django_user_model: Any,
) -> None:
    load = Load(servers_behind_redis_proxy, post, await make_tokens(django_user_model))

    async def writes_go_on_while_redis_is_away() -> None:
        await load.acks.reach(len(load.acks.ids) + ACKS_PER_PHASE)

    await run_through_outage(load, redis_proxy.cut, redis_proxy.restore, writes_go_on_while_redis_is_away)
    expected = await load.stored_ids()
    await load.watchers_caught_up(expected)

    assert sorted(load.acks.ids.values()) == expected  # every ack stored, nothing stored unacked
    assert [w.seen for w in load.watchers] == [expected] * WATCHERS  # all of it, in order, once
    assert [(w.connections, w.closes, w.refusals) for w in load.watchers] == [(1, [], 0)] * WATCHERS
    assert [(w.closes, w.refusals, w.unavailable) for w in load.writers] == [([], 0, 0)] * WRITERS
    assert_no_crash(servers_behind_redis_proxy)


async def test_postgres_cut_under_load_stores_every_retried_comment_once_and_loses_none(
    servers_behind_database_proxy: tuple[LiveServer, LiveServer],
    database_proxy: TcpProxy,
    post: Post,
    django_user_model: Any,
) -> None:
    load = Load(servers_behind_database_proxy, post, await make_tokens(django_user_model))

    async def every_writer_is_refused() -> None:
        await load.progress.until(lambda: all(w.unavailable + w.refusals + len(w.closes) for w in load.writers))

    await run_through_outage(load, database_proxy.cut, database_proxy.restore, every_writer_is_refused)
    expected = await load.stored_ids()
    await load.watchers_caught_up(expected)

    stored = {c async for c in Comment.objects.filter(post=post).values_list("client_id", "id")}
    assert stored == set(load.acks.ids.items())  # each retried comment stored once, under its first ack
    assert [w.seen for w in load.watchers] == [expected] * WATCHERS
    # A replay the outage cut short closed its connection with 4503 (the client came back with `since`);
    # gaps in live events were filled by the feed checks on the same connection, never closing it.
    assert {code for w in load.watchers for code in w.closes} <= {CLOSE_UNAVAILABLE}
    assert [w.closes for w in load.writers] == [[]] * WRITERS
    for server in servers_behind_database_proxy:
        closes = re.findall(r"Closing \S+ with 4503 during (\S+):", server.log())
        assert set(closes) <= {"websocket.connect"}
    assert_no_crash(servers_behind_database_proxy)
