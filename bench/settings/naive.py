"""
The project's settings plus the naive port's app (anchor B; bench only), with
the channel layers a Channels user configures: channels' in-memory layer, or
channels-redis' pub/sub layer with REDIS_URL (the project's own, so that pushes
compare the consumers, not the layers).
"""

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS, REDIS_URLS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.anchors.naive"]

if REDIS_URLS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": url} for url in REDIS_URLS]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
