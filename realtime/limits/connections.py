"""
A cap on each user's open connections (docs/explanation/security.md).

The token middleware takes a slot for a connection before the consumer exists
and gives it back when the connection ends; a user already at
`MAX_CONNECTIONS_PER_USER` is refused before accept (4429, HTTP 403 over
daphne). The hub (realtime/hub.py) records which connection holds which slot.

Without Redis the count is per process. With a Redis channel layer it is for
the whole deployment: a sorted set per user in the layer's first Redis holds a
lease per open connection, taken atomically (a Lua script) and renewed by its
process every `RENEW_SECONDS`, so that the slots of a process that died free
themselves within `LEASE_SECONDS`. If Redis does not answer, connections are
counted per process meanwhile, and a warning says so: the cap guards
resources, and Redis being away must not lock every user out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any, Protocol

import redis.asyncio as redis

from realtime.hub import Hub
from realtime.layers.health import report_lost
from realtime.layers.redis import library_prefix, redis_targets

logger = logging.getLogger(__name__)

LEASE_SECONDS = 120
RENEW_SECONDS = 40
REDIS_TIMEOUT = 2.0
# Connections to Redis the slot keeper may hold; more requests wait for one, up to REDIS_TIMEOUT. Unbounded,
# a burst of handshakes (a reconnect storm) opened one connection each, past redis-py's limit ("Too many
# connections", bench/RESULTS.md, C100k), and a failed take counts the slot locally.
REDIS_POOL = 20

_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class Slots(Protocol):
    async def take(self, hub: Hub, user_id: Any, connection_id: str, cap: int) -> bool: ...

    async def give_back(self, hub: Hub, connection_id: str) -> None: ...

    async def close(self) -> None: ...


class LocalSlots:
    """Open connections per user, counted in this process's hub."""

    async def take(self, hub: Hub, user_id: Any, connection_id: str, cap: int) -> bool:
        return hub.take_slot(connection_id, user_id, cap)

    async def give_back(self, hub: Hub, connection_id: str) -> None:
        hub.give_back_slot(connection_id)

    async def close(self) -> None:
        pass


class RedisSlots:
    """Open connections per user, counted in Redis for every process, with leases."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.take_script = client.register_script(_TAKE)
        self.renewer: asyncio.Task[None] | None = None

    async def take(self, hub: Hub, user_id: Any, connection_id: str, cap: int) -> bool:
        now = time.time()
        try:
            taken = await self.take_script(
                keys=[key(user_id)], args=[now, now + LEASE_SECONDS, cap, connection_id, LEASE_SECONDS]
            )
        except (redis.RedisError, OSError) as error:
            report_lost("the per-user connection caps, counted in this process meanwhile", error)
            return hub.take_slot(connection_id, user_id, cap)
        if not taken:
            return False
        hub.hold_slot(connection_id, user_id)
        if self.renewer is None:
            self.renewer = asyncio.ensure_future(self._renew(hub))
        return True

    async def give_back(self, hub: Hub, connection_id: str) -> None:
        user_id = hub.give_back_slot(connection_id)
        if not hub.held_slots() and self.renewer is not None:  # nothing left to renew
            self.renewer.cancel()
            self.renewer = None
        if user_id is not None:
            with contextlib.suppress(redis.RedisError, OSError):  # if Redis is away, the lease runs out by itself
                await self.client.zrem(key(user_id), connection_id)

    async def _renew(self, hub: Hub) -> None:
        while True:
            await hub.clock.sleep(RENEW_SECONDS)
            expires = time.time() + LEASE_SECONDS
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    for connection_id, user_id in hub.held_slots().items():
                        # xx: a slot counted locally while Redis was away gets no lease.
                        pipe.zadd(key(user_id), {connection_id: expires}, xx=True)
                        pipe.expire(key(user_id), LEASE_SECONDS)
                    await pipe.execute()
            except (redis.RedisError, OSError):
                logger.warning("Could not renew connection leases in Redis; retrying in %s s", RENEW_SECONDS)
            except Exception:  # never dies silently: the leases of every open connection depend on it
                logger.exception("Renewing connection leases in Redis failed; retrying in %s s", RENEW_SECONDS)

    async def close(self) -> None:
        if self.renewer is not None:
            self.renewer.cancel()
        await self.client.aclose()


def key(user_id: Any) -> str:
    """The sorted set of `user_id`'s connection leases (under the channel layer's prefix)."""
    return f"{library_prefix()}connections:user:{user_id}"


_keepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Slots] = weakref.WeakKeyDictionary()


def slots() -> Slots:
    """This event loop's slot keeper, for the channel layer's Redis (or none)."""
    loop = asyncio.get_running_loop()
    keeper = _keepers.get(loop)
    if keeper is None:
        targets = redis_targets()
        keeper = (
            RedisSlots(targets[0].async_client(timeout=REDIS_TIMEOUT, pool=REDIS_POOL)) if targets else LocalSlots()
        )
        _keepers[loop] = keeper
    return keeper


async def forget() -> None:
    """Drop this event loop's slot keeper and its Redis client (tests, between event loops)."""
    keeper = _keepers.pop(asyncio.get_running_loop(), None)
    if keeper is not None:
        await keeper.close()
