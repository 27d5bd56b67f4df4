"""
The base of a per-feed endpoint (`/ws/notifications`, `/ws/live-comments/<id>`):
a token endpoint that follows one topic of a feature's kind, with the
machinery `/ws/` uses for each of its topics (realtime/feeds/subscription.py):
read its high-water mark (in the token middleware's one trip to the database
thread, `read_at_handshake`) and join the feed's group before accepting, replay
after `?since=` once accepted (then `replay_complete`), then deliver live
events in order. Frames go out without a `topic`, as they always have here.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser

from realtime.auth.middleware import HANDSHAKE_READ
from realtime.close_codes import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_RATE_LIMITED
from realtime.consumers.token import TokenConsumer
from realtime.db import database_sync_to_async
from realtime.feeds.opening import Opening, read_opening
from realtime.feeds.sequenced import InvalidSince, since_from_query
from realtime.feeds.subscription import Subscription
from realtime.frames import ErrorCode
from realtime.topics.kinds import TopicKind
from realtime.types import Message, Scope

logger = logging.getLogger(__name__)


class FeedConsumer(TokenConsumer):
    """Set `kind` (a feature's `TopicKind`) and say which of its keys a connection follows (`topic_key`)."""

    kind: ClassVar[TopicKind]
    subscription: Subscription | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(inspect.getattr_static(cls, "topic_key"), classmethod):
            raise TypeError(
                f"{cls.__qualname__}.topic_key must be a classmethod of (scope, user): the key is read at the "
                "handshake, before the consumer exists (write `@classmethod def topic_key(cls, scope, user)`)."
            )

    @classmethod
    def topic_key(cls, scope: Scope, user: AbstractBaseUser) -> Hashable:
        """The key of the topic a connection follows (from its URL, `scope["url_route"]`, or its user)."""
        raise NotImplementedError

    @classmethod
    def read_at_handshake(cls, scope: Scope, user: AbstractBaseUser) -> Opening:
        """In the token middleware's trip to the database thread: the feed's high-water mark and the permission."""
        return read_opening(cls.kind, cls.topic_key(scope, user), user)

    async def connect(self) -> None:
        """
        Refused before accept when the feed's key does not exist (4404: a post,
        say), when the site's permission hook says no (4403), or when a replay
        was asked (`?since=`) past the user's replay budget (4429).
        """
        user = self.scope["user"]
        opening = self.scope.pop(HANDSHAKE_READ, None)  # not held for the connection's life
        if _asks_for_replay(self.scope) and not self.hub.replays.allows(user.pk, self._now()):
            logger.info("Refused %s: user %s is past its replay budget", self.scope["path"], user.pk)
            await self.close(CLOSE_RATE_LIMITED)
            return
        key = self.topic_key(self.scope, user)
        if opening is None:  # mounted without token_endpoint's read: one more trip
            opening = await database_sync_to_async(read_opening)(self.kind, key, user)
        if not opening.found:
            await self.close(CLOSE_NOT_FOUND)
            return
        if not opening.allowed:
            logger.info(
                "Refused %s: the permission hook refused %s to user %s",
                self.scope["path"],
                self.kind.topic(key),
                user.pk,
            )
            await self.close(CLOSE_FORBIDDEN)
            return
        subscription = Subscription(self, self.kind, key, label=None)
        await subscription.open(opening)
        self.subscription = subscription
        subscription.watch()
        await super().connect()
        await subscription.present()
        try:
            since = since_from_query(self.scope)
        except InvalidSince as error:
            await self.send_error(ErrorCode.INVALID_SINCE, f"{error}; nothing was replayed.")
            return
        if since is not None:
            await subscription.replay(since)

    def message_handler(self, message_type: str) -> Callable[[dict[str, Any]], Awaitable[None]] | None:
        return None if self.subscription is None else self.subscription.message_handler(message_type)

    def accepted_messages(self) -> list[str]:
        return [*self.client_messages, *self.kind.message_types()]

    def route(self, message: Message) -> Callable[[Message], Awaitable[None]]:
        """The topic's channel-layer and local events (`comment.created`, presence...)."""
        handler = None if self.subscription is None else self.subscription.event_handler(message["type"])
        return handler or super().route(message)

    async def feed_catch_up(self, event: Message) -> None:
        """The feed checks (realtime/feeds/checks.py) found the feed behind the database."""
        if self.subscription is not None:
            await self.subscription.catch_up(event["upto"])

    def connection_finished(self) -> None:
        super().connection_finished()
        if self.subscription is not None:
            self.subscription.stop_watching()


def _asks_for_replay(scope: dict[str, Any]) -> bool:
    """A usable `?since=`: an invalid one replays nothing (it gets an error frame once accepted)."""
    try:
        return since_from_query(scope) is not None
    except InvalidSince:
        return False
