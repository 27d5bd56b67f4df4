"""
The two presence backends keep the same books (realtime/presence/backend.py):
records per process, distinct users per topic, a version per join and leave,
the records of a dead process reaped, typing throttled. Each test runs on the
in-process backend, and on Redis when the service-backed tests run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.conf import settings

from realtime.presence.backend import KeepAlive, PresenceBackend
from realtime.presence.memory import MemoryPresence
from realtime.presence.model import Change, PresentUser, State, net
from realtime.presence.redis import RedisPresence

ALICE: PresentUser = {"id": 1, "username": "alice"}
BOB: PresentUser = {"id": 2, "username": "bob"}
TOPIC, OTHER = "comments:1", "comments:2"
NOW = 1_000_000.0


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[PresenceBackend]:
    if request.param == "memory":
        yield MemoryPresence()
        return
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(settings.REDIS_URLS[0])
    prefix = f"test:presence:{abs(hash(request.node.nodeid))}:"
    await client.delete(*[key async for key in client.scan_iter(match=f"{prefix}*")] or ["-"])
    found = RedisPresence(client, prefix=prefix)
    yield found
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await found.close()


def change(user: PresentUser, joined: bool, version: int, count: int, topic: str = TOPIC) -> Change:
    return Change(topic, user, joined, version, count)


async def test_a_users_first_record_is_a_join_and_the_last_ones_end_a_leave(backend: PresenceBackend) -> None:
    assert await backend.apply("p1", [(TOPIC, ALICE)], [], now=NOW) == [change(ALICE, True, 1, 1)]
    assert await backend.apply("p2", [(TOPIC, ALICE)], [], now=NOW) == []  # another process, the same user
    assert await backend.apply("p1", [], [(TOPIC, ALICE)], now=NOW) == []
    assert await backend.apply("p2", [], [(TOPIC, ALICE)], now=NOW) == [change(ALICE, False, 2, 0)]


async def test_writing_a_record_twice_or_ending_one_never_written_changes_nothing(backend: PresenceBackend) -> None:
    await backend.apply("p1", [(TOPIC, ALICE)], [], now=NOW)
    assert await backend.apply("p1", [(TOPIC, ALICE)], [(TOPIC, BOB)], now=NOW) == []
    assert await backend.state(TOPIC, 10) == State(1, [ALICE], 1)


async def test_the_state_lists_the_users_up_to_the_limit_with_the_version(backend: PresenceBackend) -> None:
    await backend.apply("p1", [(TOPIC, ALICE), (TOPIC, BOB), (OTHER, BOB)], [], now=NOW)
    state = await backend.state(TOPIC, 2)
    assert (state.count, sorted(state.users or [], key=lambda user: user["id"]), state.version) == (2, [ALICE, BOB], 2)
    assert await backend.state(TOPIC, 1) == State(2, None, 2)
    assert await backend.state("comments:404", 10) == State(0, [], 0)


async def test_a_sync_makes_the_records_of_a_process_exactly_those_it_holds(backend: PresenceBackend) -> None:
    await backend.apply("p1", [(TOPIC, ALICE), (OTHER, ALICE)], [], now=NOW)
    assert await backend.sync("p1", [(TOPIC, ALICE), (TOPIC, BOB)], now=NOW) == [
        change(ALICE, False, 2, 0, topic=OTHER),
        change(BOB, True, 2, 2),
    ]
    assert await backend.sync("p1", [(TOPIC, ALICE), (TOPIC, BOB)], now=NOW) == []


async def test_a_process_that_stopped_saying_it_is_alive_is_reaped_by_another(backend: PresenceBackend) -> None:
    if isinstance(backend, MemoryPresence):
        assert await backend.keepalive("p1", now=NOW, expires_after=10) == KeepAlive()  # one process: no one to reap
        return
    await backend.apply("dead", [(TOPIC, ALICE), (TOPIC, BOB)], [], now=NOW)
    await backend.apply("alive", [(TOPIC, BOB)], [], now=NOW)
    assert (await backend.keepalive("alive", now=NOW + 9, expires_after=10)).reaped == []
    reaped = await backend.keepalive("alive", now=NOW + 11, expires_after=10)
    assert reaped == KeepAlive(reaped=[change(ALICE, False, 3, 1)], lost=False)  # bob is still held by "alive"
    assert await backend.keepalive("dead", now=NOW + 12, expires_after=10) == KeepAlive(reaped=[], lost=True)


async def test_typing_is_allowed_once_per_interval(backend: PresenceBackend) -> None:
    assert await backend.allow_typing(TOPIC, 1, interval=60, now=NOW) is True
    assert await backend.allow_typing(TOPIC, 1, interval=60, now=NOW + 1) is False
    assert await backend.allow_typing(OTHER, 1, interval=60, now=NOW + 1) is True
    assert await backend.allow_typing(TOPIC, 2, interval=60, now=NOW + 1) is True


def test_a_diff_nets_out_who_came_and_went() -> None:
    carol: PresentUser = {"id": 3, "username": "carol"}
    changes = [
        change(ALICE, True, 1, 1),
        change(BOB, False, 2, 0),
        change(ALICE, False, 3, 0),  # alice came and went
        change(carol, True, 4, 1),
        change(BOB, True, 5, 2),  # bob went and came back
    ]
    diff = net(changes)
    assert (diff.joins, diff.leaves, diff.count) == ([carol], [], 2)
    assert net([change(BOB, False, 7, 0)]).leaves == [BOB]
    frame: Any = net(changes).frame(TOPIC, limit=1)
    assert frame == {"type": "presence_diff", "topic": TOPIC, "count": 2}
