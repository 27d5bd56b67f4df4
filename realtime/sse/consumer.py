"""
The consumer of an SSE stream: `/ws/`'s (TopicsConsumer), with what differs on a stream.

- The topics of the request are subscribed once it is accepted: those of its
  cursor (`Last-Event-ID`) resumed where the cursor says, as a `subscribe`
  with `since` would be, the others as a `subscribe` without `since`.
- Every frame it sends carries the stream's cursor when that moved (the
  transport writes it as the event's `id:`): where every topic it follows
  stands, so that `EventSource`'s own reconnect resumes them all.
- The heartbeat is a comment line: a client that cannot answer a ping frame
  (it has no socket to send on) is not closed with 4408 for it; a client gone
  is found by its TCP connection.
"""

from __future__ import annotations

from typing import Any

from realtime.consumers.state import WebSocketState
from realtime.consumers.topics import TopicsConsumer
from realtime.feeds.subscription import SEQ, Position
from realtime.sse import cursor
from realtime.topics.kinds import UnknownTopic, resolve
from realtime.types import Message

# What the transport reads in a stream's scope (stream.py), and in the messages the consumer sends.
SCOPE_KEY = "realtime.sse"
CURSOR = "realtime.sse.id"
COMMENT = "realtime.sse.comment"
HEARTBEAT_COMMENT = "ping"


class StreamConsumer(TopicsConsumer):
    _cursor_sent: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Topics of Last-Event-ID whose resume was refused, and where they stood.
        self._unresumed: dict[str, Position] = {}

    async def connect(self) -> None:
        await super().connect()
        if self.application_state is not WebSocketState.CONNECTED:
            return  # refused (a cap, the database)
        asked: dict[str, Any] = self.scope.get(SCOPE_KEY, {})
        resumed: dict[str, Position] = asked.get("resume", {})
        for topic in [*resumed, *(t for t in asked.get("topics", []) if t not in resumed)]:
            subscribe: dict[str, Any] = {"type": "subscribe", "topic": topic}
            if topic in resumed and (since := await self._since_of(topic, resumed[topic])) is not None:
                subscribe["since"] = since
                # Until it is subscribed, the cursor names where it stood: a resume refused (the user's
                # replay budget spent) is resumed by the next request (EventSource's reconnect), not forgotten.
                self._unresumed[topic] = resumed[topic]
            await self.on_subscribe(subscribe)

    async def _since_of(self, topic: str, position: Position) -> int | None:
        """The `since` id that resumes `topic` at `position` (None for a topic that is no topic: its error follows)."""
        try:
            kind, key = resolve(topic, self.user)
        except UnknownTopic:
            return None
        kind_source = kind.source(key)
        if kind_source is None or position[0] != SEQ:
            return position[1]
        newest = await kind_source.newest_ids(0, position[1], 1)
        return newest[0] if newest else 0

    def positions(self) -> dict[str, Position]:
        """Where each topic with stored entries stands (a resume refused: where it stood)."""
        subscriptions = getattr(self, "subscriptions", {})
        followed = {
            topic: subscription.position
            for topic, subscription in subscriptions.items()
            if subscription.position is not None
        }
        for topic in [topic for topic in self._unresumed if topic in subscriptions]:
            del self._unresumed[topic]  # subscribed again since (a POST): its own position now
        return {**self._unresumed, **followed}

    async def send_text(self, data: str) -> None:
        message: Message = {"type": "websocket.send", "text": data}
        positions = self.positions()
        if positions:
            now = cursor.encode(positions)
            if now != self._cursor_sent:
                message[CURSOR] = self._cursor_sent = now
        await self.send_message(message)

    async def heartbeat_ping(self, event: Message) -> None:
        """A comment line keeps the stream (and the proxies on the way) alive; no answer is awaited."""
        await self.send_message({"type": "websocket.send", "text": "", COMMENT: HEARTBEAT_COMMENT})
        assert self.heartbeat is not None
        self.heartbeat.ping_sent()
        self.last_client_message_at = self._now()  # answered: the transport tells of a client gone
