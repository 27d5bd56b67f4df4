"""`/ws/live-comments/<post_id>` (PROTOCOL.md, the live-comments row, "Nothing lost"): one post's topic."""

from __future__ import annotations

from collections.abc import Hashable

from django.contrib.auth.base_user import AbstractBaseUser

from comments.topics import COMMENTS_TOPIC
from realtime.consumers import FeedConsumer
from realtime.types import Scope


class LiveCommentsConsumer(FeedConsumer):
    """
    Watch a post's comments and write new ones. A post that does not exist is
    refused before accept. `?since=<comment_id>` replays the visible comments
    after it, then `replay_complete`, then live ones follow, with no gap and no
    duplicate. The author of a comment gets its `comment_created`
    acknowledgement after the commit, and then, like every other watcher, its
    `comment` frame.
    """

    kind = COMMENTS_TOPIC

    @classmethod
    def topic_key(cls, scope: Scope, user: AbstractBaseUser) -> Hashable:
        return int(scope["url_route"]["kwargs"]["post_id"])
