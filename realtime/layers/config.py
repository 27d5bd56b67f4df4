"""
`CHANNEL_LAYERS` from a few values, for a host's settings (docs/how-to/several-processes.md):

- no Redis: this library's in-memory layer, one process;
- one or more Redis URLs: channels-redis' pub/sub layer, its channels and
  groups spread over the hosts by consistent hashing (sharding);
- Sentinel addresses and a master name: the pub/sub layer on the master the
  sentinels name, followed through failovers.
"""

from __future__ import annotations

from typing import Any

PUBSUB_BACKEND = "channels_redis.pubsub.RedisPubSubChannelLayer"
IN_MEMORY_BACKEND = "realtime.layers.InMemoryChannelLayer"


def channel_layers(
    *,
    redis_urls: list[str] | None = None,
    sentinels: list[tuple[str, int]] | None = None,
    sentinel_master: str = "",
    prefix: str | None = None,
) -> dict[str, Any]:
    """
    `prefix` names this site's channels, groups and keys in Redis (channels-redis'
    default: "asgi"): sites sharing one Redis server need distinct prefixes, since
    pub/sub channels ignore the database number of the URL.
    """
    if sentinels:
        hosts: list[dict[str, Any]] = [{"sentinels": sentinels, "master_name": sentinel_master}]
    elif redis_urls:
        hosts = [{"address": url} for url in redis_urls]
    else:
        return {"default": {"BACKEND": IN_MEMORY_BACKEND}}
    config: dict[str, Any] = {"hosts": hosts}
    if prefix is not None:
        config["prefix"] = prefix
    return {"default": {"BACKEND": PUBSUB_BACKEND, "CONFIG": config}}


def sentinel_address(text: str) -> tuple[str, int]:
    """`host:port` as channels-redis and redis-py want a sentinel address."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)
