"""
The project's settings with a channel-layer prefix of the bench's own (bench only).

Redis pub/sub channels belong to the whole Redis server: the database number in
REDIS_URL does not separate them. Every site on this machine's Redis with the
layer's default prefix ("asgi") hears the others' groups: another checkout's
tests publishing `user.revoked` to `realtime.user.5` close the bench's user 5
(4401), and their presence changes of `comments:1` reach the bench's trackers.
The layer is otherwise the project's.
"""

import copy

from project.settings import *  # noqa: F403
from project.settings import CHANNEL_LAYERS as PROJECT_LAYERS

PREFIX = "realtime-bench"

CHANNEL_LAYERS = copy.deepcopy(PROJECT_LAYERS)
if "CONFIG" in CHANNEL_LAYERS["default"]:  # a Redis layer (REDIS_URL set)
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = PREFIX
