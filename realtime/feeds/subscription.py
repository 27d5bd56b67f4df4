"""
One feed a connection follows: a topic on `/ws/`, or the one feed of a
per-feed endpoint (PROTOCOL.md, "Nothing lost across reconnects").

A subscription joins the feed's channel-layer group, starts its sequenced feed
from the high-water mark (feeds/opening.py; then replay and live with no gap
and no duplicate, feeds/sequenced.py), takes its place in the feed checks (feeds/checks.py), and
leaves all of it when it ends. On `/ws/` it labels every frame about its topic
with `"topic"`; on a per-feed endpoint (`label=None`) frames go out as they are.

A topic of a kind with no source (`TopicKind.source` returns None) is live
only: nothing stored, nothing replayed (a `since` gets an empty replay), its
events sent as they come.

A subscription routes what concerns its topic: the kind's channel-layer events
and client messages, and the library's presence and typing when the kind
switched them on (realtime/presence/).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

from realtime.conf import realtime_settings
from realtime.db import database_sync_to_async
from realtime.feeds import checks
from realtime.feeds.opening import Opening, read_opening
from realtime.feeds.sequenced import FeedSource, ReplayComplete, SequencedFeed
from realtime.metrics import catalog as metrics
from realtime.metrics import delivery
from realtime.presence.tracker import FRAME, tracker
from realtime.presence.typing import TYPED, on_typing, typed
from realtime.topics.kinds import TYPING
from realtime.types import Message

if TYPE_CHECKING:
    from realtime.consumers.token import TokenConsumer
    from realtime.topics.kinds import TopicKind

CATCH_UP = "feed.catch_up"
# A subscription's position (Subscription.position): a seq of the feed, or a `since` id.
SEQ, SINCE = "s", "i"
Position = tuple[str, int]


class Subscription:
    # One per topic a connection follows, for its whole life: no per-instance dict.
    __slots__ = (
        "_present",
        "_watched",
        "consumer",
        "feed",
        "group",
        "key",
        "kind",
        "label",
        "position",
        "source",
        "topic",
    )

    def __init__(self, consumer: TokenConsumer, kind: TopicKind, key: Hashable, *, label: str | None) -> None:
        self.consumer = consumer
        self.kind = kind
        self.key = key
        self.topic = kind.topic(key)
        self.label = label
        self.source: FeedSource | None = kind.source(key)
        self.group = kind.group(key)
        self.feed = None if self.source is None else SequencedFeed(self.source, self)
        self._watched = False
        self._present = False
        # Where the connection stands in the feed, for a transport that resumes by it (realtime/sse/):
        # (SEQ, the last entry sent or the high-water mark live delivery started from), or (SINCE, the
        # id a replay starts after, until its first entry goes).
        self.position: Position | None = None

    async def open(self, opening: Opening | None = None) -> Opening:
        """
        Join the group; then, unless it was read at the handshake (`opening`),
        read the feed's high-water mark and the permission in one trip
        (feeds/opening.py). Live delivery starts from the mark when the key
        exists and the user may follow it; the caller refuses otherwise.
        """
        await self.consumer.join_group(self.group)
        if opening is None:
            opening = await database_sync_to_async(read_opening)(self.kind, self.key, self.consumer.user)
        if self.feed is not None and opening.mark is not None:
            self.feed.start(opening.mark)
            self.position = (SEQ, opening.mark)
        return opening

    def watch(self) -> None:
        """From now on the feed checks catch this subscription up with the database."""
        if self.source is None:
            return
        checks.watch(self.consumer.hub, self.source.kind, self.source.key, self)
        self._watched = True

    async def close(self) -> None:
        """Leave the feed checks and the group: nothing more of the topic reaches the connection."""
        self.stop_watching()
        await self.consumer.leave_group(self.group)

    def stop_watching(self) -> None:
        if self._watched and self.source is not None:
            checks.unwatch(self.consumer.hub, self.source.kind, self.source.key, self)
            self._watched = False
        if self._present:
            tracker(self.consumer.hub).leave(self)
            self._present = False

    @property
    def has_presence(self) -> bool:
        return self.kind.presence and bool(realtime_settings.PRESENCE)

    async def present(self) -> None:
        """With presence on the topic: the user is on it from now on, and the connection gets its `presence_state`."""
        if not self.has_presence:
            return
        self._present = True
        frame = await tracker(self.consumer.hub).join(self)
        await self.consumer.send_json(frame)

    # --- What concerns the topic ------------------------------------------------------

    def event_handler(self, event_type: str) -> Callable[[Message], Awaitable[None]] | None:
        """The handler of a channel-layer or local event about the topic; None: not one of its."""
        name = self.kind.events.get(event_type)
        if name is not None:
            handler: Callable[[Message], Awaitable[None]] = functools.partial(getattr(self.kind, name), self)
            return handler
        if event_type == FRAME:
            return self._presence_frame
        if event_type == TYPED:
            return functools.partial(typed, self)
        return None

    def message_handler(self, message_type: str) -> Callable[[dict[str, Any]], Awaitable[None]] | None:
        """The handler of a client message about the topic; None: the kind takes no such message."""
        name = self.kind.client_messages.get(message_type)
        if name is not None:
            handler: Callable[[dict[str, Any]], Awaitable[None]] = functools.partial(
                getattr(self.kind, name), self.consumer, self
            )
            return handler
        if message_type == TYPING and self.kind.typing:
            return self._typing
        return None

    async def _typing(self, message: dict[str, Any]) -> None:
        if self.has_presence:
            await on_typing(self, message)

    async def _presence_frame(self, event: Message) -> None:
        if self._present:
            await self.consumer.send_text(event["text"])

    async def replay(self, since_id: int) -> None:
        """
        The entries after `since_id` (or, past REPLAY_LIMIT, none of them), then
        `replay_complete`. Charged to the user's replay budget (limits/replays.py):
        the rows it read, and one for the query, however it ended.
        """
        if self.feed is None:
            complete: ReplayComplete = {"type": "replay_complete", "last_id": since_id, "truncated": False}
        else:
            replayed, read = self.feed.replayed, self.feed.rows_read
            live_from = self.position
            self.position = (SINCE, since_id)
            try:
                complete = await self.feed.replay(since_id, limit=realtime_settings.REPLAY_LIMIT)
            finally:
                hub = self.consumer.hub
                hub.replays.spend(self.consumer.user.pk, 1 + self.feed.rows_read - read, hub.clock.monotonic())
                metrics.replayed_entries.labels(self.kind.name).inc(self.feed.replayed - replayed)
            if complete["truncated"]:  # the client reads (since, last_id] over HTTP; live delivery goes on
                metrics.replay_truncations.labels(self.kind.name).inc()
                self.position = live_from
        await self.send(dict(complete))

    async def live(self, seq: int, frame: dict[str, Any]) -> None:
        """A live event for the feed's entry `seq`."""
        assert self.feed is not None, f"{self.topic} is live only: send its events with send()"
        delivered = self.feed.delivered_seq
        await self.feed.live(seq, frame)
        if self.feed.delivered_seq >= seq > delivered:  # it went out now
            delivery.observe(self.kind.name, self.consumer.current_message)

    async def catch_up(self, upto: int) -> None:
        if self.feed is not None:
            await self.feed.catch_up(upto)

    # What the sequenced feed asks of where its entries go (feeds/sequenced.py, FeedSink).

    async def until_writable(self) -> None:
        await self.consumer.until_writable()

    def client_keeps_up(self) -> bool:
        return self.consumer.client_keeps_up()

    async def send_entry(self, frame: dict[str, Any], seq: int) -> None:
        """Entry `seq` of the feed, once the client has read what went before (WebSocketConsumer.until_writable)."""
        await self.consumer.until_writable()
        self.position = (SEQ, seq)
        await self.send(frame)

    async def since_of(self, position: Position) -> int:
        """The `since` id that resumes the feed at `position`: the newest entry at or before its seq."""
        kind, value = position
        if kind == SINCE or self.source is None:
            return value
        newest = await self.source.newest_ids(0, value, 1)
        return newest[0] if newest else 0

    async def send(self, frame: dict[str, Any]) -> None:
        await self.consumer.send_json(self.labelled(frame))

    def labelled(self, frame: dict[str, Any]) -> dict[str, Any]:
        return frame if self.label is None else {**frame, "topic": self.label}

    # What the feed checks ask of a watcher (feeds/checks.py).

    def feed_position(self) -> int:
        return 0 if self.feed is None else self.feed.delivered_seq

    def handle_local_event(self, event: Message) -> None:
        self.consumer.handle_local_event({**event, "topic": self.topic})
