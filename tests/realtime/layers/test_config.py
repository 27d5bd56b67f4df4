"""realtime.layers.config: CHANNEL_LAYERS from a few values (in-memory, Redis hosts sharded, or Sentinel)."""

from __future__ import annotations

from typing import Any

from realtime.layers.config import channel_layers, sentinel_address
from realtime.layers.redis import library_prefix
from realtime.limits.connections import key
from realtime.presence.tracker import presence_keys


def test_without_redis_the_layer_is_the_librarys_in_memory_layer() -> None:
    assert channel_layers() == {"default": {"BACKEND": "realtime.layers.InMemoryChannelLayer"}}


def test_several_redis_urls_become_sharded_pubsub_hosts() -> None:
    assert channel_layers(redis_urls=["redis://a:6379/0", "redis://b:6379/0"]) == {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://a:6379/0"}, {"address": "redis://b:6379/0"}]},
        }
    }


def test_sentinels_win_over_urls_and_name_the_master() -> None:
    sentinels = [sentinel_address("s1.internal:26379"), sentinel_address("[::1]:26380")]
    assert channel_layers(redis_urls=["redis://ignored"], sentinels=sentinels, sentinel_master="cache") == {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"sentinels": [("s1.internal", 26379), ("::1", 26380)], "master_name": "cache"}]},
        }
    }


def test_a_prefix_names_the_sites_channels_and_the_librarys_keys(settings: Any) -> None:
    url = "redis://127.0.0.1:6379/0"
    settings.CHANNEL_LAYERS = channel_layers(redis_urls=[url], prefix="shop")
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"] == {"hosts": [{"address": url}], "prefix": "shop"}
    assert (library_prefix(), key(7), presence_keys()) == (
        "shop:realtime:",
        "shop:realtime:connections:user:7",
        "shop:realtime:presence:",
    )
    settings.CHANNEL_LAYERS = channel_layers(redis_urls=[url])
    assert key(7) == "asgi:realtime:connections:user:7"  # channels-redis' own default
