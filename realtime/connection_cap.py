"""
A cap on each user's open connections (README, "Security").

The token middleware takes a slot for a connection before the consumer exists
and gives it back when the connection ends; a user already at
`MAX_CONNECTIONS_PER_USER` is refused before accept (4429, HTTP 403 over
daphne).

Without Redis the count is per process. With Redis it is for the whole
deployment: a sorted set per user holds a lease per open connection, taken
atomically (a Lua script) and renewed by its process every `RENEW_SECONDS`, so
that the slots of a process that died free themselves within `LEASE_SECONDS`.
If Redis does not answer, connections are counted per process meanwhile, and a
warning says so: the cap guards resources, and Redis being away must not lock
every user out.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from typing import Any, Protocol

import redis.asyncio as redis
from django.conf import settings
from redis.asyncio.sentinel import Sentinel

logger = logging.getLogger(__name__)

LEASE_SECONDS = 120
RENEW_SECONDS = 40

_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class Slots(Protocol):
    async def take(self, user_id: Any, connection_id: str, cap: int) -> bool: ...

    async def give_back(self, user_id: Any, connection_id: str) -> None: ...


class LocalSlots:
    """Open connections per user, counted in this process."""

    def __init__(self) -> None:
        self.open: collections.Counter[Any] = collections.Counter()

    async def take(self, user_id: Any, connection_id: str, cap: int) -> bool:
        if self.open[user_id] >= cap:
            return False
        self.open[user_id] += 1
        return True

    async def give_back(self, user_id: Any, connection_id: str) -> None:
        self.open[user_id] -= 1
        if self.open[user_id] <= 0:
            del self.open[user_id]


class RedisSlots:
    """Open connections per user, counted in Redis for every process, with leases."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.take_script = client.register_script(_TAKE)
        self.held: dict[str, Any] = {}  # connection id -> user id, for renewal
        self.fallback = LocalSlots()
        self.renewer: asyncio.Task[None] | None = None

    async def take(self, user_id: Any, connection_id: str, cap: int) -> bool:
        now = time.time()
        try:
            taken = await self.take_script(
                keys=[key(user_id)], args=[now, now + LEASE_SECONDS, cap, connection_id, LEASE_SECONDS]
            )
        except (redis.RedisError, OSError):
            logger.warning("Redis did not answer: counting user %s's connections in this process", user_id)
            return await self.fallback.take(user_id, connection_id, cap)
        if not taken:
            return False
        self.held[connection_id] = user_id
        if self.renewer is None:
            self.renewer = asyncio.ensure_future(self._renew())
        return True

    async def give_back(self, user_id: Any, connection_id: str) -> None:
        if self.held.pop(connection_id, None) is None:
            await self.fallback.give_back(user_id, connection_id)
            return
        if not self.held and self.renewer is not None:  # nothing left to renew
            self.renewer.cancel()
            self.renewer = None
        with contextlib.suppress(redis.RedisError, OSError):  # if Redis is away, the lease runs out by itself
            await self.client.zrem(key(user_id), connection_id)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            expires = time.time() + LEASE_SECONDS
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    for connection_id, user_id in list(self.held.items()):
                        pipe.zadd(key(user_id), {connection_id: expires}, xx=True)
                        pipe.expire(key(user_id), LEASE_SECONDS)
                    await pipe.execute()
            except (redis.RedisError, OSError):
                logger.warning("Could not renew connection leases in Redis; retrying", exc_info=True)

    async def close(self) -> None:
        if self.renewer is not None:
            self.renewer.cancel()
        await self.client.aclose()


def key(user_id: Any) -> str:
    """The sorted set of `user_id`'s connection leases."""
    return f"realtime:connections:user:{user_id}"


_slots: dict[asyncio.AbstractEventLoop, Slots] = {}


def slots() -> Slots:
    """This event loop's slot keeper, for the configured Redis (or none)."""
    loop = asyncio.get_running_loop()
    keeper = _slots.get(loop)
    if keeper is None:
        keeper = _slots[loop] = _make_slots()
    return keeper


def _make_slots() -> Slots:
    timeouts = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
    if settings.REDIS_SENTINELS:
        sentinel = Sentinel(settings.REDIS_SENTINELS, **timeouts)
        return RedisSlots(sentinel.master_for(settings.REDIS_SENTINEL_MASTER, **timeouts))
    if settings.REDIS_URLS:
        return RedisSlots(redis.Redis.from_url(settings.REDIS_URLS[0], **timeouts))
    return LocalSlots()


async def forget() -> None:
    """Drop this event loop's slot keeper (tests, between event loops)."""
    keeper = _slots.pop(asyncio.get_running_loop(), None)
    if isinstance(keeper, RedisSlots):
        await keeper.close()
