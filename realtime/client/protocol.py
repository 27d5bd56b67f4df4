"""
What the client knows of the wire (PROTOCOL.md): frames as dicts, the close
codes after which it reconnects, and the messages the server never answers.

The server's close codes come from `realtime.close_codes`, which imports
nothing: the client stays importable without Django.
"""

from __future__ import annotations

import json
from typing import Any

from realtime.close_codes import (
    CLOSE_ABNORMAL,
    CLOSE_FELL_BEHIND,
    CLOSE_GOING_AWAY,
    CLOSE_HEARTBEAT_TIMEOUT,
    CLOSE_INTERNAL_ERROR,
    CLOSE_RATE_LIMITED,
    CLOSE_SERVER_RESTARTING,
    CLOSE_SERVICE_RESTART,
    CLOSE_TOKEN_EXPIRED,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAVAILABLE,
)

# A JSON object as the server sends it, or as the client sends one.
Frame = dict[str, Any]


# The JavaScript client's RECONNECT_CODES (realtime/static/realtime/client.js): after these the client
# connects again and resumes every topic; after any other code it ends (`ConnectionEnded`).
RECONNECT_CODES = frozenset(
    {
        CLOSE_GOING_AWAY,
        CLOSE_ABNORMAL,
        CLOSE_INTERNAL_ERROR,
        CLOSE_SERVICE_RESTART,
        CLOSE_TRY_AGAIN_LATER,
        CLOSE_SERVER_RESTARTING,
        CLOSE_TOKEN_EXPIRED,
        CLOSE_HEARTBEAT_TIMEOUT,
        CLOSE_FELL_BEHIND,
        CLOSE_RATE_LIMITED,
        CLOSE_UNAVAILABLE,
    }
)

# Topic messages the server answers with nothing when they succeed (PROTOCOL.md, "Typing").
UNANSWERED = frozenset({"typing"})

# A `ref` is at most this long (PROTOCOL.md, "One connection, many topics").
REF_MAX_LENGTH = 64


def encode(message: Frame) -> str:
    """A message as the server writes its own: compact, non-ASCII kept."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def decode(data: str | bytes) -> Frame | None:
    """The JSON object a server frame holds; None for anything else (the client ignores it)."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
