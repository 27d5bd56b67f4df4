"""
The consumer classes a site builds its endpoints on:

- `WebSocketConsumer` (base.py): starlette's `WebSocket` on Channels, for any endpoint;
- `TokenConsumer` (token.py): behind `TokenAuthMiddleware`: ping, refresh, heartbeat, expiry, revocation;
- `FeedConsumer` (feed.py): a token endpoint that delivers a sequenced feed with replay;
- `EchoConsumer`, `JsonConsumer` (seed.py): the seed's open endpoints.
"""

from realtime.consumers.base import WebSocketConsumer
from realtime.consumers.feed import FeedConsumer
from realtime.consumers.seed import EchoConsumer, JsonConsumer
from realtime.consumers.state import WebSocketDisconnect, WebSocketState
from realtime.consumers.token import TokenConsumer

__all__ = [
    "EchoConsumer",
    "FeedConsumer",
    "JsonConsumer",
    "TokenConsumer",
    "WebSocketConsumer",
    "WebSocketDisconnect",
    "WebSocketState",
]
