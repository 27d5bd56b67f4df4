"""`/ws/notifications` (PROTOCOL.md, the notifications row, "Nothing lost"): the user's own topic."""

from __future__ import annotations

from collections.abc import Hashable

from notifications.topics import NOTIFICATIONS_TOPIC
from realtime.consumers import FeedConsumer


class NotificationsConsumer(FeedConsumer):
    """
    Ping/pong, and every notification sent to this user: first those after
    `?since=<id>`, in order, then `replay_complete`, then live ones, with no gap
    and no duplicate.
    """

    kind = NOTIFICATIONS_TOPIC

    def topic_key(self) -> Hashable:
        return self.kind.parse(None, self.scope["user"])
