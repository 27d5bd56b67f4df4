"""
The consumer's helpers that need no consumer: what may be sent (size, close
code), how handlers are named, how the message sources run together.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any

from channels.consumer import get_handler_name

from realtime import codec
from realtime.frames import ErrorCode, error_frame
from realtime.types import Message

logger = logging.getLogger("realtime.consumers.base")

# A character takes at most this many bytes in UTF-8: shorter texts need no measuring.
MAX_BYTES_PER_CHARACTER = 4


@functools.cache
def handler_name(message_type: str) -> str:
    """Channels' `get_handler_name`, remembered per type: it runs for every message."""
    name: str = get_handler_name({"type": message_type})
    return name


def takes_two_arguments(method: Any) -> bool:
    """True when `method(self, a, b)` can be called: `disconnect(code, reason)`, not Channels' `disconnect(code)`."""
    kinds = [parameter.kind for parameter in inspect.signature(method).parameters.values()][1:]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return inspect.Parameter.VAR_POSITIONAL in kinds or sum(kind in positional for kind in kinds) >= 2


def too_large(message: Message, limit: int) -> bool:
    """True when a websocket.send message exceeds `limit` bytes (UTF-8 for text)."""
    text = message.get("text")
    if text is not None:
        return len(text.encode("utf-8", "surrogatepass")) > limit
    return len(message.get("bytes") or b"") > limit


def too_large_instead(message: Message, limit: int, path: str) -> Message:
    """
    daphne refuses to send a message over its limit (the same as for messages
    it receives) and the refusal would crash the connection: an error frame
    goes in its place.
    """
    size = len(message["text"].encode()) if message.get("text") is not None else len(message["bytes"])
    logger.warning("Not sending a %s-byte message to %s: over WEBSOCKET_MAX_MESSAGE_SIZE", size, path)
    text = codec.encode(
        error_frame(
            ErrorCode.TOO_LARGE,
            f"The server's answer ({size} bytes) exceeds the {limit}-byte message limit; it was not sent.",
        )
    )
    return {"type": "websocket.send", "text": text}
