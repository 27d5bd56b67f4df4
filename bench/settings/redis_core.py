"""The project with channels-redis' RedisChannelLayer instead of the pub/sub layer (bench only)."""

from project.settings import *  # noqa: F403
from project.settings import REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 times reads out after 5 s, the same time the layer's blocking pop
        # waits: without a longer socket timeout receives fail under load (FINDINGS.md).
        # Its pool also refuses connections past a limit ("Too many connections"),
        # which 1,000 simultaneous handshakes exceed: raise it.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 2000}],
            "capacity": 1500,
        },
    }
}
