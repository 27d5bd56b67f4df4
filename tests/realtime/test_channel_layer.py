"""realtime.channel_layer: the startup check for Redis, and the backlog of a channel in each layer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from realtime import layers
from realtime.channel_layer import RedisUnreachable, backlog, check_redis
from tests.support.live import free_port


def test_no_redis_configured_needs_no_redis(settings: Any) -> None:
    settings.REDIS_URLS, settings.REDIS_SENTINELS = [], []
    check_redis()


def test_unreachable_redis_names_redis_url_without_its_password(settings: Any) -> None:
    port = free_port()
    settings.REDIS_URLS, settings.REDIS_SENTINELS = [f"redis://:hunter2@127.0.0.1:{port}/0"], []
    with pytest.raises(RedisUnreachable) as unreachable:
        check_redis()
    message = str(unreachable.value)
    assert message.startswith(f"Cannot reach Redis at REDIS_URL=redis://:***@127.0.0.1:{port}/0 (")
    assert "hunter2" not in message


async def test_the_in_memory_backlog_counts_waiting_events() -> None:
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    for number in range(3):
        await layer.send(channel, {"type": "x", "n": number})
    assert backlog(layer, channel) == 3
    await layer.receive(channel)
    assert backlog(layer, channel) == 2


def test_unreachable_sentinels_are_named(settings: Any) -> None:
    port = free_port()
    settings.REDIS_SENTINELS, settings.REDIS_SENTINEL_MASTER = [("127.0.0.1", port)], "cache"
    with pytest.raises(RedisUnreachable) as unreachable:
        check_redis()
    assert str(unreachable.value).startswith(f"Cannot reach Redis at REDIS_SENTINELS=127.0.0.1:{port} (master cache) (")


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


def test_the_channel_layer_is_pubsub_with_redis_url_and_in_memory_without(settings: Any) -> None:
    expected = RedisPubSubChannelLayer if settings.REDIS_URL else layers.InMemoryChannelLayer
    assert type(get_channel_layer()) is expected
