"""realtime.layers.backlog: how many live events wait for one consumer, in each layer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from realtime.layers.backlog import backlog


async def test_the_in_memory_backlog_counts_waiting_events() -> None:
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    for number in range(3):
        await layer.send(channel, {"type": "x", "n": number})
    assert backlog(layer, channel) == 3
    await layer.receive(channel)
    assert backlog(layer, channel) == 2


@pytest.mark.services
async def test_the_pubsub_backlog_counts_waiting_events(settings: Any) -> None:
    layer = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL])
    try:
        channel = await layer.new_channel()
        for number in range(3):
            await layer.send(channel, {"type": "x", "n": number})
        for _ in range(100):
            if backlog(layer, channel) == 3:
                break
            await asyncio.sleep(0.02)
        assert backlog(layer, channel) == 3
    finally:
        await layer.flush()


@pytest.mark.services
async def test_other_layers_report_no_backlog(settings: Any) -> None:
    layer = RedisChannelLayer(hosts=[settings.REDIS_URL])
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "x"})
        assert backlog(layer, channel) == 0
    finally:
        await layer.flush()
