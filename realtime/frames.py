"""
The frames every token endpoint shares, and error frames.

An input the server cannot use gets one error frame and the connection stays
open (PROTOCOL.md, "Errors that keep the connection open"). Each error frame
names its `code` slug: the library's are `ErrorCode`; a feature registers its
own (`realtime.registry.Feature.error_codes`), so that every code a server can
send is known in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal, TypedDict

from realtime.metrics.catalog import error_frames


class ErrorCode(StrEnum):
    """The library's `code` slugs."""

    INVALID_JSON = "invalid_json"
    TEXT_REQUIRED = "text_required"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_TOKEN = "invalid_token"
    INVALID_SINCE = "invalid_since"
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    # /ws/ (realtime/consumers/topics.py)
    UNKNOWN_TOPIC = "unknown_topic"
    FORBIDDEN = "forbidden"
    ALREADY_SUBSCRIBED = "already_subscribed"
    NOT_SUBSCRIBED = "not_subscribed"
    TOO_MANY_TOPICS = "too_many_topics"


class ErrorFrame(TypedDict):
    type: Literal["error"]
    code: str
    message: str


class PingFrame(TypedDict):
    type: Literal["ping"]


class PongFrame(TypedDict):
    type: Literal["pong"]


class RefreshedFrame(TypedDict):
    type: Literal["refreshed"]
    expires_at: str


class SubscribedFrame(TypedDict):
    """`/ws/`: the answer to a `subscribe` (PROTOCOL.md, "One connection, many topics")."""

    type: Literal["subscribed"]
    topic: str


class UnsubscribedFrame(TypedDict):
    """`/ws/`: the answer to an `unsubscribe`; nothing more of the topic comes after it."""

    type: Literal["unsubscribed"]
    topic: str


class ConnectedFrame(TypedDict):
    """SSE: a stream's first event; `stream` names it in the URL its client POSTs messages to."""

    type: Literal["connected"]
    stream: str


class CloseFrame(TypedDict):
    """SSE: a stream's last event, where a WebSocket would have been closed with `code`."""

    type: Literal["close"]
    code: int
    reason: str


class Labels(TypedDict, total=False):
    """
    What `/ws/` and SSE add to the frames they send: `topic` to every frame about a
    topic, `ref` to the answer to a message that carried one (PROTOCOL.md, "One
    connection, many topics").
    """

    topic: str
    ref: str


PING: PingFrame = {"type": "ping"}
PONG: PongFrame = {"type": "pong"}

# Every error code a server of this process can send: the library's, then the features'.
_error_codes: dict[str, str] = dict.fromkeys(ErrorCode, "realtime")


def register_error_codes(owner: str, codes: Mapping[str, str] | list[str]) -> None:
    """Make a feature's error codes known; a code belongs to one owner."""
    for code in codes:
        if _error_codes.get(code, owner) != owner:
            raise ValueError(f"Error code {code!r} belongs to {_error_codes[code]}; {owner} cannot register it")
        _error_codes[code] = owner


def error_codes() -> frozenset[str]:
    return frozenset(_error_codes)


def error_frame(code: str, message: str) -> ErrorFrame:
    """An error frame; `code` must be the library's or a registered feature's."""
    if code not in _error_codes:
        raise ValueError(f"Unknown error code {code!r}: register it with the feature that sends it")
    error_frames.labels(code).inc()  # every error frame made is sent
    return {"type": "error", "code": str(code), "message": message}
