"""
A Python client for `/ws/` (PROTOCOL.md, "Clients: Python and TypeScript"):
asyncio, needing only `websockets`, importable without Django.

    async with RealtimeClient("ws://host/ws/", token=get_token) as client:
        subscription = await client.subscribe("comments:42", since=0)
        async for frame in subscription:
            ...

It answers the server's pings, refreshes a token it can renew before it
expires, reconnects with jittered exponential backoff after the codes the
JavaScript client reconnects after, and resumes every topic after the last id
it received there, filling truncated replays from the history endpoint: each
entry reaches the `async for` once, in order, across reconnects.
"""

from __future__ import annotations

from realtime.client.backfill import default_history_base, history_url
from realtime.client.backoff import backoff_delay
from realtime.client.client import ClientState, RealtimeClient
from realtime.client.credentials import TokenSource, token_times
from realtime.client.errors import (
    ClientClosed,
    ConnectionEnded,
    ConnectionLost,
    HandshakeRefused,
    HistoryUnavailable,
    MessageRejected,
    RealtimeClientError,
    SubscriptionRefused,
    TokenExpired,
)
from realtime.client.positions import Position, default_position
from realtime.client.protocol import RECONNECT_CODES, Frame
from realtime.client.subscriptions import Subscription, SubscriptionState

__all__ = [
    "RECONNECT_CODES",
    "ClientClosed",
    "ClientState",
    "ConnectionEnded",
    "ConnectionLost",
    "Frame",
    "HandshakeRefused",
    "HistoryUnavailable",
    "MessageRejected",
    "Position",
    "RealtimeClient",
    "RealtimeClientError",
    "Subscription",
    "SubscriptionRefused",
    "SubscriptionState",
    "TokenExpired",
    "TokenSource",
    "backoff_delay",
    "default_history_base",
    "default_position",
    "history_url",
    "token_times",
]
