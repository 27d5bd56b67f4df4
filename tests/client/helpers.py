"""What the client's tests share: the URL of a server's `/ws/`, frames as the server sends them, comments in bulk."""

from __future__ import annotations

import asyncio
from typing import Any

from django.utils import timezone

from comments.frames import comment_frame
from comments.models import Comment, Post
from realtime.client import Frame, Subscription
from tests.support.live import LiveServer

WAIT = 10.0


def ws_url(server: LiveServer) -> str:
    return f"{server.ws_url}/ws/"


def comment_frame_of(comment: Comment, topic: str) -> Frame:
    return {**comment_frame(comment), "topic": topic}


def presence_state_of(topic: str, *users: Any) -> Frame:
    listed = [{"id": user.pk, "username": user.get_username()} for user in users]
    return {"type": "presence_state", "topic": topic, "count": len(listed), "users": listed}


async def take(subscription: Subscription, count: int, wait: float = WAIT) -> list[Frame]:
    """The next `count` frames of `subscription`; TimeoutError if they do not come within `wait` seconds."""

    async def frames() -> list[Frame]:
        return [await anext(subscription) for _ in range(count)]

    return await asyncio.wait_for(frames(), wait)


def comments_in_bulk(post: Post, author: Any, count: int, *, size: int = 20) -> list[Comment]:
    """`count` comments on `post`, numbered as comment_create numbers them, in one insert."""
    now = timezone.now()
    start = post.last_comment_seq
    Comment.objects.bulk_create(
        Comment(post=post, author=author, body=f"{n} " + "x" * size, seq=start + n, created_at=now)
        for n in range(1, count + 1)
    )
    Post.objects.filter(pk=post.pk).update(last_comment_seq=start + count)
    post.refresh_from_db()
    return list(Comment.objects.filter(post=post).select_related("author").order_by("id"))
