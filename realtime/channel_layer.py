"""
Operating the channel layer: a clear error when Redis is not there at start,
and how many live events wait for one consumer.

The layer itself is configured in project/channel_layers.py: the in-memory layer
without Redis, channels-redis' pub/sub layer with it (README, "Choosing the
channel layer").
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlparse

import redis
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from redis.sentinel import Sentinel

STARTUP_TIMEOUT = 3.0


class RedisUnreachable(Exception):
    """Redis does not answer at `REDIS_URL`; `str()` says what to do."""


def check_redis() -> None:
    """With Redis configured, make sure every host answers, or raise `RedisUnreachable`."""
    timeouts = {"socket_timeout": STARTUP_TIMEOUT, "socket_connect_timeout": STARTUP_TIMEOUT}
    if settings.REDIS_SENTINELS:
        master = settings.REDIS_SENTINEL_MASTER
        where = f"REDIS_SENTINELS={','.join(f'{h}:{p}' for h, p in settings.REDIS_SENTINELS)} (master {master})"
        _ping(lambda: Sentinel(settings.REDIS_SENTINELS, **timeouts).master_for(master, **timeouts), where)
        return
    for url in settings.REDIS_URLS:
        _ping(partial(redis.Redis.from_url, url, **timeouts), f"REDIS_URL={_without_password(url)}")


def _ping(client_factory: Any, where: str) -> None:
    try:
        client = client_factory()
        client.ping()
        client.close()
    except (redis.RedisError, OSError, ValueError) as error:
        raise RedisUnreachable(
            f"Cannot reach Redis at {where} ({error}). "
            "Start Redis or correct REDIS_URL; unset REDIS_URL to run one process on the in-memory channel layer."
        ) from None


def backlog(layer: Any, channel: str) -> int:
    """
    How many live events wait, in this process, for the consumer of `channel`:
    the in-memory layer's and the pub/sub layer's per-channel queues. Other
    layers keep their backlog elsewhere (channels-redis' core layer, in Redis,
    where its `capacity` bounds it) and report 0.
    """
    if isinstance(layer, InMemoryChannelLayer):
        queue = layer.channels.get(channel)
    elif isinstance(layer, RedisPubSubChannelLayer):
        queue = layer._get_layer().channels.get(channel)
    else:
        return 0
    return queue.qsize() if queue is not None else 0


def _without_password(url: str) -> str:
    parts = urlparse(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
