"""
`CHANNEL_LAYERS` from the environment (README, "Redis options"):

- no Redis: the in-memory layer, one process, with room for a backlog past
  `CHANNEL_BACKLOG_LIMIT`, so that a slow connection is closed (4410) before
  events to it are dropped;
- one or more Redis URLs: channels-redis' pub/sub layer, its channels and
  groups spread over the hosts by consistent hashing (sharding);
- Sentinel addresses and a master name: the pub/sub layer on the master the
  sentinels name, followed through failovers.
"""

from __future__ import annotations

from typing import Any

PUBSUB_BACKEND = "channels_redis.pubsub.RedisPubSubChannelLayer"
IN_MEMORY_BACKEND = "realtime.layers.InMemoryChannelLayer"


def channel_layers_setting(
    *, redis_urls: list[str], sentinels: list[tuple[str, int]], sentinel_master: str, backlog_limit: int
) -> dict[str, Any]:
    if sentinels:
        hosts: list[dict[str, Any]] = [{"sentinels": sentinels, "master_name": sentinel_master}]
    elif redis_urls:
        hosts = [{"address": url} for url in redis_urls]
    else:
        return {"default": {"BACKEND": IN_MEMORY_BACKEND, "CONFIG": {"capacity": 2 * backlog_limit}}}
    return {"default": {"BACKEND": PUBSUB_BACKEND, "CONFIG": {"hosts": hosts}}}


def sentinel_address(text: str) -> tuple[str, int]:
    """`host:port` as channels-redis and redis-py want a sentinel address."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)
