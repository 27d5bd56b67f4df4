"""
The consumer classes a site builds its endpoints on:

- `WebSocketConsumer` (base.py): starlette's `WebSocket` on Channels, for any endpoint;
- `TokenConsumer` (token.py): behind `TokenAuthMiddleware`: ping, refresh, heartbeat, expiry, revocation;
- `FeedConsumer` (feed.py): a token endpoint that follows one topic, with replay;
- `TopicsConsumer` (topics.py): `/ws/`, a token endpoint that follows many topics;
- `EchoConsumer`, `JsonConsumer` (seed.py): the seed's open endpoints.
"""

from realtime.consumers.base import WebSocketConsumer
from realtime.consumers.feed import FeedConsumer
from realtime.consumers.seed import EchoConsumer, JsonConsumer
from realtime.consumers.state import WebSocketDisconnect, WebSocketState
from realtime.consumers.token import TokenConsumer
from realtime.consumers.topics import TopicsConsumer

__all__ = [
    "EchoConsumer",
    "FeedConsumer",
    "JsonConsumer",
    "TokenConsumer",
    "TopicsConsumer",
    "WebSocketConsumer",
    "WebSocketDisconnect",
    "WebSocketState",
]
