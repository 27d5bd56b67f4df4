"""realtime.layers.redis: the channel layer's Redis hosts, and the check that they answer at start."""

from __future__ import annotations

from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

from realtime import layers
from realtime.layers.config import channel_layers
from realtime.layers.redis import RedisTarget, RedisUnreachable, check_redis, redis_targets
from tests.support.live import free_port


def test_the_in_memory_layer_has_no_redis(settings: Any) -> None:
    settings.CHANNEL_LAYERS = channel_layers()
    assert redis_targets() == []
    check_redis()


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (["redis://a:6379/0"], [RedisTarget(url="redis://a:6379/0")]),
        (
            [{"address": "redis://a:1/2"}, ("b", 6380)],
            [RedisTarget(url="redis://a:1/2"), RedisTarget(url="redis://b:6380")],
        ),
        (
            [{"sentinels": [("s", 26379)], "master_name": "cache"}],
            [RedisTarget(sentinels=(("s", 26379),), master="cache")],
        ),
    ],
    ids=["url", "address-and-tuple", "sentinels"],
)
def test_the_redis_hosts_are_read_from_the_channel_layer(
    settings: Any, hosts: list[Any], expected: list[RedisTarget]
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": hosts}}
    }
    assert redis_targets() == expected


def test_unreachable_redis_is_named_without_its_password(settings: Any) -> None:
    port = free_port()
    settings.CHANNEL_LAYERS = channel_layers(redis_urls=[f"redis://:hunter2@127.0.0.1:{port}/0"])
    with pytest.raises(RedisUnreachable) as unreachable:
        check_redis()
    message = str(unreachable.value)
    assert message.startswith(f"Cannot reach Redis at redis://:***@127.0.0.1:{port}/0 (")
    assert message.endswith(
        "), a host of CHANNEL_LAYERS['default']. Start Redis, or correct the channel layer's hosts in your settings."
    )
    assert "hunter2" not in message


def test_unreachable_sentinels_are_named(settings: Any) -> None:
    port = free_port()
    settings.CHANNEL_LAYERS = channel_layers(sentinels=[("127.0.0.1", port)], sentinel_master="cache")
    with pytest.raises(RedisUnreachable) as unreachable:
        check_redis()
    assert str(unreachable.value).startswith(f"Cannot reach Redis at sentinels 127.0.0.1:{port} (master cache) (")


def test_the_channel_layer_is_pubsub_with_redis_url_and_in_memory_without(settings: Any) -> None:
    expected = RedisPubSubChannelLayer if settings.REDIS_URL else layers.InMemoryChannelLayer
    assert type(get_channel_layer()) is expected
