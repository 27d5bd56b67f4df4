"""Frames of `/ws/notifications` (PROTOCOL.md, the notifications row)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    from notifications.models import Notification


class NotificationFrame(TypedDict):
    type: Literal["notification"]
    id: int
    created_at: str
    payload: dict[str, Any]


def notification_frame(notification: Notification) -> NotificationFrame:
    return {
        "type": "notification",
        "id": notification.pk,
        "created_at": notification.created_at.isoformat(),
        "payload": notification.payload,
    }
