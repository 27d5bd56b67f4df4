"""The endpoints of the realtime app: `/ws/echo`, `/ws/json`, `/ws/notifications` (PROTOCOL.md, "Endpoints")."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from realtime import selectors
from realtime.feed import Entry
from realtime.feed_consumer import FeedConsumer
from realtime.frames import ErrorCode
from realtime.services import NotificationCreated, notifications_group
from realtime.websocket import WebSocketConsumer


class EchoConsumer(WebSocketConsumer):
    """`/ws/echo`: a text frame `T` is answered with the text frame `Echo: T`."""

    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            await self.send_error(ErrorCode.TEXT_REQUIRED, "This endpoint echoes text frames: send text, not binary.")
            return
        await self.send_text(f"Echo: {text_data}")


class JsonConsumer(WebSocketConsumer):
    """`/ws/json`: a JSON value `V` is answered with `{"received": V, "status": "ok"}`."""

    channel_layer_alias = None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"received": content, "status": "ok"})


class NotificationsConsumer(FeedConsumer):
    """
    `/ws/notifications`: ping/pong, and every notification sent to this user:
    first those after `?since=<id>`, in order, then live ones, with no gap and
    no duplicate.
    """

    def feed_group(self) -> str:
        return notifications_group(self.scope["user"].pk)

    def feed_source(self) -> UserNotifications:
        return UserNotifications(self.scope["user"].pk)

    async def notification_created(self, event: NotificationCreated) -> None:
        await self.deliver(event["seq"], dict(event["notification"]))


class UserNotifications:
    """One user's notifications as a feed source (realtime/feed.py)."""

    kind = selectors.NOTIFICATION_FEEDS

    def __init__(self, user_id: Any) -> None:
        self.user_id = user_id
        self.key = user_id

    async def high_water(self) -> int:
        return await database_sync_to_async(selectors.notification_high_water)(user_id=self.user_id)

    async def after_id(self, since_id: int, upto_seq: int, limit: int) -> list[Entry]:
        return await database_sync_to_async(selectors.notifications_after_id)(
            user_id=self.user_id, since_id=since_id, upto_seq=upto_seq, limit=limit
        )

    async def seq_range(self, after_seq: int, upto_seq: int, limit: int) -> list[Entry]:
        return await database_sync_to_async(selectors.notifications_in_seq_range)(
            user_id=self.user_id, after_seq=after_seq, upto_seq=upto_seq, limit=limit
        )
