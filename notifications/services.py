"""
Writes of the notifications app: the notification push API.

`notify_user(user, payload)` stores a notification and, once the transaction
commits, pushes it to every open `/ws/notifications` connection of that user on
every server process. Call it from anywhere in Django: views, admin actions,
signals, the shell. From async code, `await anotify_user(user, payload)`.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction

from notifications.frames import NotificationFrame, notification_frame
from notifications.models import Notification, NotificationSequence
from realtime.codec import encode
from realtime.conf import realtime_settings
from realtime.db import database_sync_to_async
from realtime.feeds.publish import Publication, publish_on_commit


class NotificationCreated(TypedDict):
    """The channel-layer event behind a pushed notification."""

    type: Literal["notification.created"]
    topic: str  # TOPIC (realtime/topics/kinds.py), for connections that follow many
    seq: int
    notification: NotificationFrame


# The name of the topic of a user's notifications (notifications/topics.py): always the connection's own user's.
TOPIC = "notifications"

# Bytes a notification frame adds to its payload: type, id, created_at.
NOTIFICATION_FRAME_OVERHEAD = 128


def notifications_group(user_id: Any) -> str:
    return f"notifications.user.{user_id}"


def notify_user(user: AbstractBaseUser, payload: dict[str, Any]) -> Notification:
    """Store a notification for `user`, then push it to their open connections after the commit."""
    if not isinstance(payload, dict):
        raise TypeError(f"A notification payload must be a dict, not {type(payload).__name__}.")
    size, limit = len(encode(payload).encode()), realtime_settings.WEBSOCKET_MAX_MESSAGE_SIZE
    if size > limit - NOTIFICATION_FRAME_OVERHEAD:
        raise ValueError(
            f"A notification payload of {size} bytes would exceed WEBSOCKET_MAX_MESSAGE_SIZE "
            f"({limit}) once framed; send less, or a link to it."
        )
    with transaction.atomic():
        notification = Notification.objects.create(recipient_id=user.pk, seq=_next_seq(user.pk), payload=payload)
        publish_on_commit([notification_publication(notification)])
    return notification


def _next_seq(user_id: Any) -> int:
    """
    The user's next notification `seq`, in one statement: an upsert of the
    user's counter row, which stays locked until the transaction ends, so seq
    1, 2, 3... commit in order (realtime/feeds/sequenced.py).
    """
    table = connection.ops.quote_name(NotificationSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, last_seq) VALUES (%s, 1) "
            f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + 1 RETURNING last_seq",
            [user_id],
        )
        (seq,) = cursor.fetchone()
    return int(seq)


async def anotify_user(user: AbstractBaseUser, payload: dict[str, Any]) -> Notification:
    """`notify_user` for async code."""
    return await database_sync_to_async(notify_user)(user, payload)


def notification_publication(notification: Notification) -> Publication:
    """The group and channel-layer event that push `notification`."""
    event: NotificationCreated = {
        "type": "notification.created",
        "topic": TOPIC,
        "seq": notification.seq,
        "notification": notification_frame(notification),
    }
    return notifications_group(notification.recipient_id), dict(event)
