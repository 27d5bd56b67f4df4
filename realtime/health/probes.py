"""
Does the database answer? Does Redis? Each asked with a short deadline, so that
readiness never hangs on a dependency that hangs.

The database is asked on a connection of its own, in a thread of its own (not
the one thread that serves every `database_sync_to_async` call, which a hung
query would block), with a connect timeout; whatever happens, the answer comes
within `PROBE_TIMEOUT`. Concurrent probes share the one in flight, so a
database that hangs holds at most one thread per process, however often the
load balancer asks. Redis (the channel layer's hosts, when it is channels-redis)
is pinged, each host within the same deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import redis
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from realtime import pools
from realtime.layers.redis import redis_targets

logger = logging.getLogger(__name__)

# Seconds a probe may take before its dependency counts as failing.
PROBE_TIMEOUT = 2.5
# libpq's connect_timeout, whole seconds, at least 2 (below that libpq takes 2 anyway).
CONNECT_TIMEOUT = 2


def database_answers_now(alias: str = DEFAULT_DB_ALIAS) -> None:
    """
    `SELECT 1` on a new connection to database `alias`, made outside its pool (a pool waiting out
    its reconnect backoff says nothing of the database); raises when it does not answer. When it
    answers, a pool that knew the database away starts afresh (realtime/pools.py).
    """
    wrapper = connections.create_connection(alias)
    if wrapper.vendor == "postgresql":
        options = {**wrapper.settings_dict.get("OPTIONS", {}), "connect_timeout": CONNECT_TIMEOUT}
        options.pop("pool", None)
        wrapper.settings_dict = {**wrapper.settings_dict, "OPTIONS": options}
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        with contextlib.suppress(DatabaseError):
            wrapper.close()
    pools.database_answered(alias)


class SharedProbe:
    """A blocking check run in a thread, one at a time: callers that come while it runs wait for the same run."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._running: asyncio.Future[None] | None = None

    async def passes(self, within: float) -> bool:
        loop = asyncio.get_running_loop()
        running = self._running
        if running is None or running.done() or running.get_loop() is not loop:
            running = self._running = loop.run_in_executor(None, self._check)
        try:
            await asyncio.wait_for(asyncio.shield(running), within)
        except TimeoutError:
            logger.warning("Readiness: no answer within %s s", within)
            return False
        except Exception as error:
            logger.warning("Readiness: %s: %s", type(error).__name__, error)
            return False
        return True


_database = SharedProbe(database_answers_now)


async def database_answers() -> bool:
    """True when the database answers within PROBE_TIMEOUT."""
    return await _database.passes(PROBE_TIMEOUT)


async def redis_answers() -> bool:
    """True when every Redis host of the channel layer answers a PING within PROBE_TIMEOUT (True without any)."""
    results = await asyncio.gather(*(_ping(target, PROBE_TIMEOUT) for target in redis_targets()))
    return all(results)


async def _ping(target: Any, within: float) -> bool:
    client = target.async_client(timeout=within)
    try:
        await asyncio.wait_for(client.ping(), within)
    except (TimeoutError, redis.RedisError, OSError) as error:
        logger.warning("Readiness: Redis at %s: %s", target, type(error).__name__)
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()
    return True
