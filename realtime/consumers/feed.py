"""
The base of token endpoints that deliver a feed (realtime/feeds/sequenced.py): join the
feed's group and read its high-water mark before accepting, replay after
`?since=` once accepted, then deliver live events in order.
"""

from __future__ import annotations

import logging
from typing import Any

from realtime.auth.permissions import may_follow
from realtime.close_codes import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND
from realtime.consumers.token import TokenConsumer
from realtime.feeds import checks
from realtime.feeds.sequenced import FeedNotFound, FeedSource, InvalidSince, SequencedFeed, since_from_query
from realtime.frames import ErrorCode
from realtime.types import Message

logger = logging.getLogger(__name__)


class FeedConsumer(TokenConsumer):
    feed: SequencedFeed | None = None
    source: FeedSource | None = None

    def feed_group(self) -> str:
        """The channel-layer group whose events feed this connection."""
        raise NotImplementedError

    def feed_source(self) -> FeedSource:
        """Where this connection's entries are read from."""
        raise NotImplementedError

    def feed_topic(self) -> str | None:
        """The topic the site's permission hook is asked about (realtime/auth/permissions.py); None: no need."""
        return None

    async def connect(self) -> None:
        """
        Refused before accept when the feed's key does not exist (4404: a post,
        say) or when the site's permission hook says no (4403).
        """
        await self.join_group(self.feed_group())
        self.source = self.feed_source()
        feed = SequencedFeed(self.source, self.send_paced)
        try:
            await feed.open()
        except FeedNotFound:
            await self.close(CLOSE_NOT_FOUND)
            return
        topic = self.feed_topic()
        if topic is not None and not await may_follow(self.scope["user"], topic):
            logger.info(
                "Refused %s: the permission hook refused %s to user %s",
                self.scope["path"],
                topic,
                self.scope["user"].pk,
            )
            await self.close(CLOSE_FORBIDDEN)
            return
        self.feed = feed
        checks.watch(self.hub, self.source.kind, self.source.key, self)
        await super().connect()
        try:
            since = since_from_query(self.scope)
        except InvalidSince as error:
            await self.send_error(ErrorCode.INVALID_SINCE, f"{error}; nothing was replayed.")
            return
        if since is not None:
            await self.feed.replay(since)

    async def send_paced(self, frame: dict[str, Any]) -> None:
        """Send an entry of the feed once the client has read what went before (WebSocketConsumer.until_writable)."""
        await self.until_writable()
        await self.send_json(frame)

    async def deliver(self, seq: int, frame: dict[str, Any]) -> None:
        """A live event for the feed's entry `seq`."""
        assert self.feed is not None
        await self.feed.live(seq, frame)

    def feed_position(self) -> int:
        return self.feed.delivered_seq if self.feed is not None else 0

    async def feed_catch_up(self, event: Message) -> None:
        """The feed checks (realtime/feeds/checks.py) found the feed behind the database."""
        assert self.feed is not None
        await self.feed.catch_up(event["upto"])

    def connection_finished(self) -> None:
        super().connection_finished()
        if self.feed is not None and self.source is not None:
            checks.unwatch(self.hub, self.source.kind, self.source.key, self)
