"""
One topic followed on a `RealtimeClient`: its frames as an async iterator,
its messages and their answers, its place in the feed.

A subscription is a small state machine (`SubscriptionState`): subscribing
(sent, or waiting for a connection to send it on), subscribed, leaving (its
`unsubscribe` sent, the answer not yet here), then unsubscribed, failed (the
server refused it) or closed (the client ended). The frames of the topic that
arrive while it is subscribed wait in its inbox (inbox.py) for the consumer's
`async for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from typing import Protocol

from realtime.client.backfill import Backfill
from realtime.client.backoff import Backoff
from realtime.client.errors import ClientClosed, ConnectionLost, MessageRejected, SubscriptionRefused
from realtime.client.inbox import Inbox
from realtime.client.positions import Position, TopicPosition
from realtime.client.protocol import UNANSWERED, Frame

# The error a resubscription may get when the user's replay budget is spent: asked again later.
RATE_LIMITED = "rate_limited"
NOT_SUBSCRIBED = "not_subscribed"


class SubscriptionState(enum.Enum):
    SUBSCRIBING = "subscribing"
    SUBSCRIBED = "subscribed"
    LEAVING = "leaving"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"
    CLOSED = "closed"


_MOVES = {
    SubscriptionState.SUBSCRIBING: frozenset(
        {SubscriptionState.SUBSCRIBED, SubscriptionState.LEAVING, SubscriptionState.UNSUBSCRIBED}
        | {SubscriptionState.FAILED, SubscriptionState.CLOSED}
    ),
    SubscriptionState.SUBSCRIBED: frozenset(
        {SubscriptionState.SUBSCRIBING, SubscriptionState.LEAVING, SubscriptionState.CLOSED}
    ),
    SubscriptionState.LEAVING: frozenset({SubscriptionState.UNSUBSCRIBED, SubscriptionState.CLOSED}),
}
_OVER = frozenset({SubscriptionState.UNSUBSCRIBED, SubscriptionState.FAILED, SubscriptionState.CLOSED})


class Link(Protocol):
    """What a subscription needs of its client (`RealtimeClient`)."""

    @property
    def generation(self) -> int | None:
        """The number of the open connection; None while there is none."""

    def new_ref(self) -> str: ...

    def expect(self, ref: str) -> asyncio.Future[Frame]:
        """A future for the frame answering `ref`; it fails with `ConnectionLost` if the connection drops first."""

    def drop_answer(self, ref: str) -> None: ...

    async def write(self, message: Frame) -> None:
        """Send `message` on the open connection; `ConnectionLost` when there is none."""

    def resubscribe_later(self, subscription: Subscription) -> None:
        """Send the subscription's `subscribe` again after a backoff delay (a replay budget spent)."""

    def forget(self, subscription: Subscription) -> None: ...

    def history_url(self, topic: str) -> str: ...

    def current_token(self) -> str | None: ...

    @property
    def token_renewable(self) -> bool:
        """Whether the client can get a new token (a callable), or has one string that expires."""

    def new_backoff(self) -> Backoff: ...


class Subscription:
    """
    `async for frame in subscription` yields every frame of the topic as the
    server sent it (`subscribed`, presence, typing, moderation, replayed and
    live entries, `replay_complete`), each stored entry once across reconnects,
    except the answers `send` returns.
    """

    def __init__(self, link: Link, topic: str, *, since: int | None, position: Position) -> None:
        self.topic = topic
        self.state = SubscriptionState.SUBSCRIBING
        # Why it failed or closed: SubscriptionRefused, or the client's error (None: closed by the application).
        self.error: Exception | None = None
        # The connection the last `subscribe` went out on (RealtimeClient sends one per connection).
        self.sent_on: int | None = None
        self._link = link
        self._position = TopicPosition(since, position)
        self._inbox = Inbox(self._position, self._start_backfill)
        self._settled = asyncio.Event()
        # Set each time the client tells the subscription its connection is gone.
        self._dropped = asyncio.Event()
        self._answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._left: asyncio.Future[None] | None = None

    @property
    def since(self) -> int | None:
        """
        The id of the last entry the `async for` delivered (or the `since` asked
        for): what a worker keeps to start again where it stopped. (A reconnect
        resumes after the last id received, as what was received waits here.)
        """
        return self._position.delivered

    def __repr__(self) -> str:
        return f"<Subscription {self.topic} {self.state.value} since={self.since}>"

    # --- The application's side ---------------------------------------------------------

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Frame:
        return await self._inbox.next()

    async def send(self, message: Frame) -> Frame | None:
        """
        Send `message` about this topic (`topic` and a `ref` added) and return the
        frame answering it (`comment_created`). An error frame raises
        `MessageRejected`. A message the server answers with nothing when it
        succeeds (`typing`) returns None once written, with no `ref`; an error
        it causes arrives in the `async for`. While the client reconnects, it waits
        for the topic to be subscribed again. When the connection drops before
        the answer, a message with a `client_id` is sent again (the server
        acts on it once); anything else raises `ConnectionLost`.
        """
        if message.get("type") in UNANSWERED:
            await self._until_subscribed()
            await self._link.write({**message, "topic": self.topic})
            return None
        ref = self._link.new_ref()
        while True:
            await self._until_subscribed()
            connection = self.sent_on
            answer = self._link.expect(ref)
            try:
                await self._link.write({**message, "topic": self.topic, "ref": ref})
                frame = await answer
            except ConnectionLost:
                self._link.drop_answer(ref)
                if "client_id" not in message:
                    raise
                # Sent again on the next connection: until the client has seen this one go (its reader
                # may not have run yet), the subscription still looks subscribed on it.
                while self.state is SubscriptionState.SUBSCRIBED and self.sent_on == connection:
                    self._dropped.clear()
                    await self._dropped.wait()
                continue
            if frame.get("type") == "error":
                raise MessageRejected(frame)
            return frame

    async def unsubscribe(self) -> None:
        """
        Stop following the topic. The `async for` ends at once (frames not yet
        taken are dropped); this returns when the server has answered, so the
        topic may be subscribed again right after.
        """
        self._inbox.stop()
        if self.state in _OVER:
            return
        if self.state is SubscriptionState.LEAVING:
            assert self._left is not None
            await asyncio.shield(self._left)
            return
        if self.sent_on is None or self.sent_on != self._link.generation:
            self._move(SubscriptionState.UNSUBSCRIBED)  # the server has not heard of it on this connection
            self._link.forget(self)
            return
        self._left = asyncio.get_running_loop().create_future()
        self._move(SubscriptionState.LEAVING)
        # Should the connection drop first, disconnected() ends it: the server forgets the topic with it.
        with contextlib.suppress(ConnectionLost):
            await self._link.write({"type": "unsubscribe", "topic": self.topic})
        await asyncio.shield(self._left)

    # --- The client's side ---------------------------------------------------------------

    async def answered(self) -> None:
        """Wait for the answer to the first `subscribe`: `SubscriptionRefused` for an error frame."""
        await asyncio.shield(self._answered)

    def subscribe_message(self) -> Frame:
        """The `subscribe` to send on a new connection, resuming after the last id received."""
        message: Frame = {"type": "subscribe", "topic": self.topic}
        if self._position.received is not None:
            message["since"] = self._position.received
        return message

    def receive(self, frame: Frame) -> None:
        """A frame about this topic, from the open connection (answers to `send` are not routed here)."""
        if self.state is SubscriptionState.SUBSCRIBED:
            self._inbox.put(frame)
        elif self.state is SubscriptionState.SUBSCRIBING:
            self._answer(frame)
        elif self.state is SubscriptionState.LEAVING and _ends_leaving(frame):
            self._finish_leaving()

    def disconnected(self) -> None:
        """The connection dropped: subscribed again on the next one, or, when leaving, left."""
        self.sent_on = None
        self._dropped.set()
        if self.state is SubscriptionState.SUBSCRIBED:
            self._move(SubscriptionState.SUBSCRIBING)
        elif self.state is SubscriptionState.LEAVING:
            self._finish_leaving()

    def end(self, error: Exception | None) -> None:
        """The client ended: closed by the application (`error` None) or failed with `error`."""
        if self.state in _OVER:
            return
        self.error = error
        self._move(SubscriptionState.CLOSED)
        self._dropped.set()
        if not self._answered.done():
            self._answered.set_exception(error or ClientClosed("the client was closed"))
        if self._left is not None and not self._left.done():
            self._left.set_result(None)
        self._inbox.end(error)

    # --- Inside ----------------------------------------------------------------------------

    def _answer(self, frame: Frame) -> None:
        """The answer to a `subscribe`: the first `subscribed` or error frame of the topic after it."""
        if frame.get("type") == "subscribed":
            self._move(SubscriptionState.SUBSCRIBED)
            if not self._answered.done():
                self._answered.set_result(None)
            self._inbox.put(frame)
        elif frame.get("type") == "error":
            if frame.get("code") == RATE_LIMITED and self._answered.done():
                self.sent_on = None  # a resubscription past the replay budget: asked again after a while
                self._link.resubscribe_later(self)
                return
            refused = SubscriptionRefused(frame)
            self.error = refused
            self._move(SubscriptionState.FAILED)
            self._link.forget(self)
            if self._answered.done():
                self._inbox.end(refused)
            else:
                self._answered.set_exception(refused)

    def _finish_leaving(self) -> None:
        self._move(SubscriptionState.UNSUBSCRIBED)
        self._link.forget(self)
        if self._left is not None and not self._left.done():
            self._left.set_result(None)

    async def _until_subscribed(self) -> None:
        while self.state is SubscriptionState.SUBSCRIBING:
            await self._settled.wait()
        if self.state is SubscriptionState.SUBSCRIBED:
            return
        if self.error is not None:
            raise self.error
        if self.state is SubscriptionState.CLOSED:
            raise ClientClosed("the client was closed")
        raise RuntimeError(f"Expected a subscribed subscription to {self.topic}, but it is {self.state.value}")

    def _move(self, to: SubscriptionState) -> None:
        allowed = _MOVES.get(self.state, frozenset())
        if to not in allowed:
            expected = " or ".join(sorted(state.value for state in allowed)) or "nothing (it is over)"
            raise RuntimeError(f"Expected a move to {expected} from {self.state.value}, but got {to.value}")
        self.state = to
        if to is SubscriptionState.SUBSCRIBING:
            self._settled.clear()
        else:
            self._settled.set()

    def _start_backfill(self, complete: Frame) -> Backfill:
        return Backfill(
            url=self._link.history_url(self.topic),
            topic=self.topic,
            complete=complete,
            after=self._position.delivered or 0,
            position=self._position.position,
            token=self._link.current_token,
            backoff=self._link.new_backoff(),
            renewable=self._link.token_renewable,
        )


def _ends_leaving(frame: Frame) -> bool:
    """
    The answer to an `unsubscribe`: `unsubscribed`, or `not_subscribed` when the
    subscribe itself had failed. Until it, anything of the topic belongs to the
    subscription being left, and is dropped.
    """
    return frame.get("type") == "unsubscribed" or frame.get("code") == NOT_SUBSCRIBED
