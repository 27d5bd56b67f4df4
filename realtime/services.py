"""
Writes of the realtime app: the notification push API.

`notify_user(user, payload)` stores a notification and, once the transaction
commits, pushes it to every open `/ws/notifications` connection of that user on
every server process. Call it from anywhere in Django: views, admin actions,
signals, the shell. From async code, `await anotify_user(user, payload)`.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Max

from realtime.frames import NotificationFrame, notification_frame
from realtime.models import Notification


class NotificationCreated(TypedDict):
    """The channel-layer event behind a pushed notification."""

    type: Literal["notification.created"]
    seq: int
    notification: NotificationFrame


def notifications_group(user_id: Any) -> str:
    return f"notifications.user.{user_id}"


def notify_user(user: AbstractBaseUser, payload: dict[str, Any]) -> Notification:
    """Store a notification for `user`, then push it to their open connections after the commit."""
    if not isinstance(payload, dict):
        raise TypeError(f"A notification payload must be a dict, not {type(payload).__name__}.")
    with transaction.atomic():
        # Numbering under the recipient's row lock commits seq 1, 2, 3... in order (realtime/feed.py).
        list(get_user_model()._default_manager.select_for_update().filter(pk=user.pk).values_list("pk"))
        last_seq = Notification.objects.filter(recipient_id=user.pk).aggregate(last=Max("seq"))["last"] or 0
        notification = Notification.objects.create(recipient_id=user.pk, seq=last_seq + 1, payload=payload)
        transaction.on_commit(partial(_publish, notification), robust=True)
    return notification


async def anotify_user(user: AbstractBaseUser, payload: dict[str, Any]) -> Notification:
    """`notify_user` for async code."""
    return await database_sync_to_async(notify_user)(user, payload)


def notification_publication(notification: Notification) -> tuple[str, NotificationCreated]:
    """The group and channel-layer event that push `notification`."""
    event: NotificationCreated = {
        "type": "notification.created",
        "seq": notification.seq,
        "notification": notification_frame(notification),
    }
    return notifications_group(notification.recipient_id), event


def _publish(notification: Notification) -> None:
    async_to_sync(get_channel_layer().group_send)(*notification_publication(notification))


class NotificationPollSource:
    """Notifications stored by other processes, for realtime/poller.py."""

    def latest_id(self) -> int:
        return Notification.objects.aggregate(latest=Max("id"))["latest"] or 0

    def publications_after(self, after_id: int, limit: int) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
        notifications = list(Notification.objects.filter(id__gt=after_id).order_by("id")[:limit])
        newest = notifications[-1].pk if notifications else after_id
        return newest, [notification_publication(n) for n in notifications]  # type: ignore[misc]
