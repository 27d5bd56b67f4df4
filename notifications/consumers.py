"""`/ws/notifications` (PROTOCOL.md, the notifications row, "Nothing lost"): the user's own topic."""

from __future__ import annotations

from collections.abc import Hashable

from django.contrib.auth.base_user import AbstractBaseUser

from notifications.topics import NOTIFICATIONS_TOPIC
from realtime.consumers import FeedConsumer
from realtime.types import Scope


class NotificationsConsumer(FeedConsumer):
    """
    Ping/pong, and every notification sent to this user: first those after
    `?since=<id>`, in order, then `replay_complete`, then live ones, with no gap
    and no duplicate.
    """

    kind = NOTIFICATIONS_TOPIC

    @classmethod
    def topic_key(cls, scope: Scope, user: AbstractBaseUser) -> Hashable:
        return cls.kind.parse(None, user)
