"""How many live events wait, in this process, for one consumer (the 4410 rule of CHANNEL_BACKLOG_LIMIT)."""

from __future__ import annotations

from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer


def backlog(layer: Any, channel: str) -> int:
    """
    The in-memory layer's and the pub/sub layer's per-channel queue length.
    Other layers keep their backlog elsewhere (channels-redis' core layer, in
    Redis, where its `capacity` bounds it) and report 0.
    """
    if isinstance(layer, InMemoryChannelLayer):
        queue = layer.channels.get(channel)
    elif isinstance(layer, RedisPubSubChannelLayer):
        queue = layer._get_layer().channels.get(channel)
    else:
        return 0
    return queue.qsize() if queue is not None else 0
