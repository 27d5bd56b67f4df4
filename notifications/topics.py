"""`notifications`: the connection's own user's notifications as a topic, on `/ws/` and `/ws/notifications`."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from django.contrib.auth.base_user import AbstractBaseUser

from notifications.feeds import UserNotifications
from notifications.services import TOPIC, NotificationCreated, notifications_group
from realtime.topics.kinds import TopicKind

if TYPE_CHECKING:
    from realtime.feeds.subscription import Subscription


class NotificationsTopic(TopicKind):
    name = TOPIC
    keyed = False  # it names no user: it is always the connection's own
    events = {"notification.created": "created"}

    def parse(self, key: str | None, user: AbstractBaseUser) -> Hashable:
        own: Hashable = user.pk
        return own

    def source(self, key: Hashable) -> UserNotifications:
        return UserNotifications(key)

    def group(self, key: Hashable) -> str:
        return notifications_group(key)

    def permission_topic(self, key: Hashable) -> str | None:
        return None  # a user's own notifications are theirs to follow

    async def created(self, subscription: Subscription, event: NotificationCreated) -> None:
        await subscription.live(event["seq"], dict(event["notification"]))


NOTIFICATIONS_TOPIC = NotificationsTopic()
