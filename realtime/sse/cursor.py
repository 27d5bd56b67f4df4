"""
The `id:` of an SSE event (PROTOCOL.md, "Server-Sent Events"): for every topic the
stream follows, where it stands (realtime/feeds/subscription.py, `Subscription.position`),
so that a request carrying it (`Last-Event-ID`) resumes each topic with nothing
lost and nothing twice.

Opaque to clients: base64url of compact JSON, `[[topic, "s" | "i", number], ...]`
(a feed's seq, or a `since` id). At most `MAX_TOPICS_PER_CONNECTION` topics, each
name short: a few hundred bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from realtime.conf import realtime_settings
from realtime.feeds.sequenced import is_id
from realtime.feeds.subscription import SEQ, SINCE, Position

# A cursor longer than this is not one of ours (50 topics of 64 characters, encoded).
MAX_LENGTH = 16 * 1024


class InvalidCursor(ValueError):
    """Not a cursor this server wrote."""


def encode(positions: Mapping[str, Position]) -> str:
    listed = [[topic, kind, value] for topic, (kind, value) in positions.items()]
    return base64.urlsafe_b64encode(json.dumps(listed, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str) -> dict[str, Position]:
    """The positions `cursor` names; `InvalidCursor` for anything else."""
    if len(cursor) > MAX_LENGTH:
        raise InvalidCursor("the cursor is too long")
    try:
        # RecursionError: thousands of nested brackets, which json.loads refuses that way.
        listed = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidCursor("the cursor is not one this server wrote") from None
    if not isinstance(listed, list):
        raise InvalidCursor("the cursor is not one this server wrote")
    if len(listed) > realtime_settings.MAX_TOPICS_PER_CONNECTION:
        raise InvalidCursor("the cursor names more topics than a stream may follow")
    positions: dict[str, Position] = {}
    for item in listed:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and isinstance(item[0], str)
            and item[1] in (SEQ, SINCE)
            and is_id(item[2])
        ):
            raise InvalidCursor("the cursor is not one this server wrote")
        positions[item[0]] = (item[1], item[2])
    return positions
