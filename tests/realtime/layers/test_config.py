"""realtime.layers.config: CHANNEL_LAYERS from a few values (in-memory, Redis hosts sharded, or Sentinel)."""

from __future__ import annotations

from realtime.layers.config import channel_layers, sentinel_address


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
