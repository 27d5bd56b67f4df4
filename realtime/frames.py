"""
Frames the realtime endpoints send, and the error frame every endpoint shares.

An input the server cannot use gets one error frame and the connection stays
open (PROTOCOL.md, "Errors that keep the connection open").
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    from realtime.models import Notification


class ErrorCode(StrEnum):
    """The `code` slug of an error frame."""

    INVALID_JSON = "invalid_json"
    TEXT_REQUIRED = "text_required"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_BODY = "invalid_body"
    INVALID_CLIENT_ID = "invalid_client_id"
    INVALID_TOKEN = "invalid_token"
    INVALID_SINCE = "invalid_since"
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


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


class NotificationFrame(TypedDict):
    type: Literal["notification"]
    id: int
    created_at: str
    payload: dict[str, Any]


PING: PingFrame = {"type": "ping"}
PONG: PongFrame = {"type": "pong"}


def error_frame(code: ErrorCode, message: str) -> ErrorFrame:
    return {"type": "error", "code": code.value, "message": message}


def notification_frame(notification: Notification) -> NotificationFrame:
    return {
        "type": "notification",
        "id": notification.pk,
        "created_at": notification.created_at.isoformat(),
        "payload": notification.payload,
    }
