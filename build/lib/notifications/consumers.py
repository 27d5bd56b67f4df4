"""`/ws/notifications` (PROTOCOL.md, the notifications row, "Nothing lost")."""

from __future__ import annotations

from notifications.feeds import UserNotifications
from notifications.services import NotificationCreated, notifications_group
from realtime.consumers import FeedConsumer


class NotificationsConsumer(FeedConsumer):
    """
    Ping/pong, and every notification sent to this user: first those after
    `?since=<id>`, in order, then live ones, with no gap and no duplicate.
    """

    def feed_group(self) -> str:
        return notifications_group(self.scope["user"].pk)

    def feed_source(self) -> UserNotifications:
        return UserNotifications(self.scope["user"].pk)

    async def notification_created(self, event: NotificationCreated) -> None:
        await self.deliver(event["seq"], dict(event["notification"]))
