"""
`comments:<post_id>`: a post's comments as a topic (PROTOCOL.md, "One connection,
many topics"), on `/ws/` and, one post per connection, on
`/ws/live-comments/<post_id>` (comments/consumers.py).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError

from comments.feeds import PostComments
from comments.frames import comment_created_frame, comment_deleted_frame, comment_hidden_frame, comment_unhidden_frame
from comments.limits import COMMENT_BUDGET
from comments.messages import InvalidNewComment, parse_new_comment
from comments.models import Post
from comments.services import (
    TOPIC_KIND,
    CommentCreated,
    CommentRemoved,
    CommentUnhidden,
    comment_create,
    post_group,
)
from realtime.conf import realtime_settings
from realtime.db import database_sync_to_async
from realtime.frames import ErrorCode
from realtime.outage import log_database_failure
from realtime.topics.kinds import TopicKind, UnknownTopic

if TYPE_CHECKING:
    from realtime.consumers.token import TokenConsumer
    from realtime.feeds.subscription import Subscription

logger = logging.getLogger(__name__)

POST_ID_DIGITS = 18
create_comment = database_sync_to_async(comment_create)


class CommentsTopic(TopicKind):
    name = TOPIC_KIND
    events = {
        "comment.created": "created",
        "comment.hidden": "hidden",
        "comment.unhidden": "unhidden",
        "comment.deleted": "deleted",
    }
    client_messages = {"new_comment": "new_comment"}
    presence = True
    typing = True

    def parse(self, key: str | None, user: AbstractBaseUser) -> Hashable:
        if key is None or not key.isascii() or not key.isdigit() or len(key) > POST_ID_DIGITS:
            raise UnknownTopic(f'No topic "comments:{(key or "")[:20]}": a post id is a number, as in "comments:42"')
        return int(key)

    def source(self, key: Hashable) -> PostComments:
        assert isinstance(key, int)
        return PostComments(key)

    def group(self, key: Hashable) -> str:
        assert isinstance(key, int)
        return post_group(key)

    # --- Channel-layer events of the post's group --------------------------------

    async def created(self, subscription: Subscription, event: CommentCreated) -> None:
        await subscription.live(event["seq"], dict(event["frame"]))

    async def hidden(self, subscription: Subscription, event: CommentRemoved) -> None:
        await subscription.send(dict(comment_hidden_frame(event["comment_id"])))

    async def unhidden(self, subscription: Subscription, event: CommentUnhidden) -> None:
        await subscription.send(dict(comment_unhidden_frame(event["frame"]["comment"])))

    async def deleted(self, subscription: Subscription, event: CommentRemoved) -> None:
        await subscription.send(dict(comment_deleted_frame(event["comment_id"])))

    # --- Client messages ---------------------------------------------------------

    async def new_comment(self, consumer: TokenConsumer, subscription: Subscription, message: dict[str, Any]) -> None:
        """
        Write a comment: acknowledged (`comment_created`) only after the commit; a
        retry with the same `client_id` names the first comment (comments/services.py).
        """
        if not consumer.within_budget(COMMENT_BUDGET.kind):
            await consumer.over_budget(COMMENT_BUDGET.kind)
            return
        topic, post_id = subscription.label, subscription.key
        assert isinstance(post_id, int)
        try:
            new = parse_new_comment(message, max_length=realtime_settings.COMMENT_MAX_LENGTH)
        except InvalidNewComment as invalid:
            await consumer.reply_error(invalid.code, str(invalid), message, topic=topic)
            return
        try:
            comment, _ = await create_comment(
                post_id=post_id, author=consumer.user, body=new.body, client_id=new.client_id
            )
        except Post.DoesNotExist:
            text = "This post no longer exists; the comment was not saved."
            await consumer.reply_error(ErrorCode.NOT_FOUND, text, message, topic=topic)
            return
        except DatabaseError as error:
            log_database_failure(logger, error, "Could not save a comment on post %s", post_id)
            text = "The comment could not be saved; send it again with the same client_id."
            await consumer.reply_error(ErrorCode.UNAVAILABLE, text, message, topic=topic)
            return
        await consumer.reply(subscription.labelled(dict(comment_created_frame(comment))), message)


COMMENTS_TOPIC = CommentsTopic()
