"""The naive port's consumers (anchor B): what the Channels documentation teaches, applied to the seed."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.contrib.auth import get_user_model

from bench.anchors.naive.models import NaiveComment
from realtime.auth.tokens import signing_secret
from realtime.conf import realtime_settings

logger = logging.getLogger(__name__)
User = get_user_model()


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=f"Echo: {text_data}")

    async def disconnect(self, code: int) -> None:
        logger.info("Client disconnected with code %s", code)


class JsonConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"received": content, "status": "ok"})


@database_sync_to_async
def get_user(user_id: int) -> Any:
    return User.objects.get(pk=user_id, is_active=True)


class TokenConsumer(AsyncJsonWebsocketConsumer):
    """Token from the query string, checked in connect(), as the seed does; a heartbeat task as its tip says."""

    group: str

    async def connect(self) -> None:
        token = parse_qs(self.scope["query_string"].decode()).get("token", [""])[0]
        try:
            payload = jwt.decode(token, signing_secret(), algorithms=["HS256"])
            self.user = await get_user(int(payload["sub"]))
        except (jwt.InvalidTokenError, KeyError, ValueError, User.DoesNotExist):
            await self.close(code=1008)
            return
        self.group = self.group_name()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.last_seen = time.monotonic()
        self.heartbeat = asyncio.create_task(self.beat())

    def group_name(self) -> str:
        raise NotImplementedError

    async def beat(self) -> None:
        while True:
            await asyncio.sleep(realtime_settings.HEARTBEAT_INTERVAL)
            await self.send_json({"type": "ping"})
            await asyncio.sleep(realtime_settings.HEARTBEAT_TIMEOUT)
            if time.monotonic() - self.last_seen > realtime_settings.HEARTBEAT_TIMEOUT:
                await self.close(code=4408)
                return

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "heartbeat"):
            self.heartbeat.cancel()
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        self.last_seen = time.monotonic()
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})


class NotificationsConsumer(TokenConsumer):
    def group_name(self) -> str:
        return f"notifications.user.{self.user.pk}"

    async def notification_created(self, event: dict[str, Any]) -> None:
        await self.send_json(event["notification"])


@database_sync_to_async
def create_comment(post_id: int, author: Any, body: str) -> NaiveComment:
    return NaiveComment._default_manager.create(post_id=post_id, author=author, body=body)


class LiveCommentsConsumer(TokenConsumer):
    def group_name(self) -> str:
        return f"naive.post.{self.scope['url_route']['kwargs']['post_id']}"

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await super().receive_json(content)
        if content.get("type") == "new_comment":
            post_id = int(self.scope["url_route"]["kwargs"]["post_id"])
            comment = await create_comment(post_id, self.user, content["body"])
            frame = {
                "id": comment.id,
                "post_id": post_id,
                "author": self.user.username,
                "body": comment.body,
                "created_at": comment.created_at.isoformat(),
            }
            await self.channel_layer.group_send(self.group, {"type": "comment.message", "comment": frame})
            await self.send_json(
                {"type": "comment_created", "comment_id": comment.id, "client_id": content.get("client_id")}
            )

    async def comment_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "comment", "comment": event["comment"]})
