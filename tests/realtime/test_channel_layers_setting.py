"""CHANNEL_LAYERS from the environment: in-memory, Redis hosts (sharded), or Sentinel."""

from __future__ import annotations

from project.channel_layers import channel_layers_setting, sentinel_address


def test_without_redis_the_in_memory_layer_has_room_past_the_backlog_limit() -> None:
    assert channel_layers_setting(redis_urls=[], sentinels=[], sentinel_master="m", backlog_limit=1000) == {
        "default": {"BACKEND": "realtime.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2000}}
    }


def test_several_redis_urls_become_sharded_pubsub_hosts() -> None:
    urls = ["redis://a:6379/0", "redis://b:6379/0"]
    assert channel_layers_setting(redis_urls=urls, sentinels=[], sentinel_master="m", backlog_limit=1000) == {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://a:6379/0"}, {"address": "redis://b:6379/0"}]},
        }
    }


def test_sentinels_win_over_urls_and_name_the_master() -> None:
    sentinels = [sentinel_address("s1.internal:26379"), sentinel_address("[::1]:26380")]
    assert channel_layers_setting(
        redis_urls=["redis://ignored"], sentinels=sentinels, sentinel_master="cache", backlog_limit=1000
    ) == {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"sentinels": [("s1.internal", 26379), ("::1", 26380)], "master_name": "cache"}]},
        }
    }
