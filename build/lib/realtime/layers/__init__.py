"""
Channel layers: the in-memory layer this library ships (`realtime.layers.InMemoryChannelLayer`),
CHANNEL_LAYERS for Redis from a few values (config.py), and the layer's health
(redis.py: Redis reachable at start; backlog.py: events waiting for a consumer).
"""

from realtime.layers.memory import InMemoryChannelLayer

__all__ = ["InMemoryChannelLayer"]
