"""`/ws/live-comments/<post_id>` (PROTOCOL.md, the live-comments row, "Nothing lost")."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError

from comments.feature import COMMENT_BUDGET
from comments.feeds import PostComments
from comments.frames import (
    comment_created_frame,
    comment_deleted_frame,
    comment_hidden_frame,
    comment_unhidden_frame,
)
from comments.messages import InvalidNewComment, parse_new_comment
from comments.models import Post
from comments.services import (
    CommentCreated,
    CommentRemoved,
    CommentUnhidden,
    comment_create,
    post_group,
    post_topic,
)
from realtime.conf import realtime_settings
from realtime.consumers import FeedConsumer
from realtime.db import database_sync_to_async
from realtime.frames import ErrorCode
from realtime.outage import log_database_failure

logger = logging.getLogger(__name__)

create_comment = database_sync_to_async(comment_create)


class LiveCommentsConsumer(FeedConsumer):
    """
    Watch a post's comments and write new ones. A post that does not exist is
    refused before accept. `?since=<comment_id>` replays the visible comments
    after it, then live ones follow, with no gap and no duplicate. The author of
    a comment gets its `comment_created` acknowledgement after the commit, and
    then, like every other watcher, its `comment` frame.
    """

    client_messages = {**FeedConsumer.client_messages, "new_comment": "on_new_comment"}

    post_id: int

    async def connect(self) -> None:
        self.post_id = int(self.scope["url_route"]["kwargs"]["post_id"])
        await super().connect()

    def feed_group(self) -> str:
        return post_group(self.post_id)

    def feed_topic(self) -> str:
        return post_topic(self.post_id)

    def feed_source(self) -> PostComments:
        return PostComments(self.post_id)

    async def on_new_comment(self, message: dict[str, Any]) -> None:
        if not self.within_budget(COMMENT_BUDGET.kind):
            await self.over_budget(COMMENT_BUDGET.kind)
            return
        try:
            new = parse_new_comment(message, max_length=realtime_settings.COMMENT_MAX_LENGTH)
        except InvalidNewComment as invalid:
            await self.send_error(invalid.code, str(invalid))
            return
        try:
            comment, _ = await create_comment(
                post_id=self.post_id, author=self.user, body=new.body, client_id=new.client_id
            )
        except Post.DoesNotExist:
            await self.send_error(ErrorCode.NOT_FOUND, "This post no longer exists; the comment was not saved.")
            return
        except DatabaseError as error:
            log_database_failure(logger, error, "Could not save a comment on post %s", self.post_id)
            await self.send_error(
                ErrorCode.UNAVAILABLE, "The comment could not be saved; send it again with the same client_id."
            )
            return
        await self.send_json(comment_created_frame(comment))

    # --- Channel-layer events of the post's group --------------------------------

    async def comment_created(self, event: CommentCreated) -> None:
        await self.deliver(event["seq"], dict(event["frame"]))

    async def comment_hidden(self, event: CommentRemoved) -> None:
        await self.send_json(comment_hidden_frame(event["comment_id"]))

    async def comment_unhidden(self, event: CommentUnhidden) -> None:
        await self.send_json(comment_unhidden_frame(event["frame"]["comment"]))

    async def comment_deleted(self, event: CommentRemoved) -> None:
        await self.send_json(comment_deleted_frame(event["comment_id"]))
