"""channels-redis' tracebacks while Redis is away become one line (realtime/layers/health.py)."""

from __future__ import annotations

import logging

from realtime.layers.health import QuietChannelsRedis

CHANNELS_REDIS_LOGGER = "channels_redis.pubsub"


def install() -> None:
    """Filter channels-redis' tracebacks into the outage report. Idempotent."""
    logger = logging.getLogger(CHANNELS_REDIS_LOGGER)
    if not any(isinstance(existing, QuietChannelsRedis) for existing in logger.filters):
        logger.addFilter(QuietChannelsRedis())
