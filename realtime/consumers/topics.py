"""
`/ws/`: one connection, many topics (PROTOCOL.md, "One connection, many topics").

A token endpoint (the same token, origin check, heartbeat, expiry and
`refresh`, rate limits and per-user cap as every token endpoint) whose client
follows any number of topics of the registered kinds (realtime/topics/kinds.py):

    {"type": "subscribe", "topic": T, "since": N}   ->  subscribed, [the replay, replay_complete], live events
    {"type": "unsubscribe", "topic": T}             ->  unsubscribed; nothing more of T

and sends a kind's messages about a topic it follows (`new_comment`...). Every
frame about a topic carries `"topic"`, every answer the message's `"ref"`.
The connection holds one channel-layer channel, in the groups of the topics it
follows; each topic is a subscription (realtime/feeds/subscription.py) with
the replay, gap filling and feed checks of a per-feed endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from realtime.conf import realtime_settings
from realtime.consumers.token import TokenConsumer, quote
from realtime.feeds.sequenced import is_id
from realtime.feeds.subscription import Subscription
from realtime.frames import ErrorCode, error_frame
from realtime.topics.kinds import UnknownTopic, resolve, topic_kinds
from realtime.types import Message

logger = logging.getLogger(__name__)

REF_MAX_LENGTH = 64


class InvalidRef(ValueError):
    pass


class TopicsConsumer(TokenConsumer):
    client_messages: ClassVar[dict[str, str]] = {
        **TokenConsumer.client_messages,
        "subscribe": "on_subscribe",
        "unsubscribe": "on_unsubscribe",
    }

    async def connect(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        await super().connect()

    # --- Client messages ----------------------------------------------------------

    async def on_subscribe(self, message: dict[str, Any]) -> None:
        if not await self._ref_is_usable(message):
            return
        topic = message.get("topic")
        try:
            kind, key = resolve(topic, self.user)
        except UnknownTopic as unknown:
            await self.reply_error(ErrorCode.UNKNOWN_TOPIC, f"{unknown}.", message, topic=_named(topic))
            return
        name = kind.topic(key)
        if name in self.subscriptions:
            await self.reply_error(
                ErrorCode.ALREADY_SUBSCRIBED, f"This connection follows {name} already.", message, topic=name
            )
            return
        limit = realtime_settings.MAX_TOPICS_PER_CONNECTION
        if len(self.subscriptions) >= limit:
            text = f"A connection may follow at most {limit} topics; unsubscribe from one first."
            await self.reply_error(ErrorCode.TOO_MANY_TOPICS, text, message, topic=name)
            return
        since = message.get("since")
        if since is not None and not is_id(since):
            text = '"since", when given, must be a non-negative integer id; nothing was subscribed.'
            await self.reply_error(ErrorCode.INVALID_SINCE, text, message, topic=name)
            return
        if since is not None and not self.may_replay():
            await self.replay_refused(message, topic=name)
            return
        subscription = Subscription(self, kind, key, label=name)
        opening = await subscription.open()
        if not opening.found:
            await subscription.close()
            await self.reply_error(ErrorCode.NOT_FOUND, f"There is no {name}.", message, topic=name)
            return
        if not opening.allowed:
            await subscription.close()
            logger.info(
                "Refused %s on %s: the permission hook refused it to user %s", name, self.scope["path"], self.user.pk
            )
            await self.reply_error(ErrorCode.FORBIDDEN, f"This user may not follow {name}.", message, topic=name)
            return
        self.subscriptions[name] = subscription
        subscription.watch()
        await self.reply({"type": "subscribed", "topic": name}, message)
        await subscription.present()
        if since is not None:
            await subscription.replay(since)

    async def on_unsubscribe(self, message: dict[str, Any]) -> None:
        subscription = await self._subscription_of(message)
        if subscription is None:
            return
        del self.subscriptions[subscription.topic]
        await subscription.close()
        await self.reply({"type": "unsubscribed", "topic": subscription.topic}, message)

    def message_handler(self, message_type: str) -> Callable[[dict[str, Any]], Awaitable[None]] | None:
        """A kind's message about a topic (`new_comment`): for a topic this connection follows."""
        if not any(message_type in kind.message_types() for kind in topic_kinds().values()):
            return None
        return self._on_topic_message

    def accepted_messages(self) -> list[str]:
        kinds = {name for kind in topic_kinds().values() for name in kind.message_types()}
        return [*self.client_messages, *sorted(kinds)]

    async def _on_topic_message(self, message: dict[str, Any]) -> None:
        subscription = await self._subscription_of(message)
        if subscription is None:
            return
        handler = subscription.message_handler(message["type"])
        if handler is None:
            text = f"{quote(message['type'])} is not a message about {subscription.topic}."
            await self.reply_error(ErrorCode.UNKNOWN_TYPE, text, message, topic=subscription.topic)
            return
        await handler(message)

    async def _subscription_of(self, message: dict[str, Any]) -> Subscription | None:
        """The subscription `message` is about; None after answering with an error frame."""
        if not await self._ref_is_usable(message):
            return None
        topic = message.get("topic")
        try:
            kind, key = resolve(topic, self.user)
        except UnknownTopic as unknown:
            await self.reply_error(ErrorCode.UNKNOWN_TOPIC, f"{unknown}.", message, topic=_named(topic))
            return None
        name = kind.topic(key)
        subscription = self.subscriptions.get(name)
        if subscription is None:
            await self.reply_error(
                ErrorCode.NOT_SUBSCRIBED, f"This connection does not follow {name}.", message, topic=name
            )
        return subscription

    async def _ref_is_usable(self, message: dict[str, Any]) -> bool:
        ref = message.get("ref")
        if ref is None or (isinstance(ref, str) and len(ref) <= REF_MAX_LENGTH):
            return True
        text = f'"ref", when given, must be a string of at most {REF_MAX_LENGTH} characters.'
        await self.send_error(ErrorCode.INVALID_MESSAGE, text)
        return False

    async def reply(self, frame: dict[str, Any], message: dict[str, Any]) -> None:
        await self.send_json(_with_ref(frame, message))

    async def reply_error(self, code: str, text: str, message: dict[str, Any], *, topic: str | None = None) -> None:
        frame: dict[str, Any] = dict(error_frame(code, text))
        if topic is not None:
            frame["topic"] = topic
        await self.send_json(_with_ref(frame, message))

    # --- Events of the topics followed ---------------------------------------------

    def route(self, message: Message) -> Callable[[Message], Awaitable[None]]:
        """A kind's channel-layer event, for the subscription its `topic` names (dropped after an unsubscribe)."""
        subscription = self.subscriptions.get(message.get("topic", ""))
        if subscription is None:
            return _drop
        return subscription.event_handler(message["type"]) or super().route(message)

    async def feed_catch_up(self, event: Message) -> None:
        subscription = self.subscriptions.get(event.get("topic", ""))
        if subscription is not None:
            await subscription.catch_up(event["upto"])

    def connection_finished(self) -> None:
        super().connection_finished()
        for subscription in getattr(self, "subscriptions", {}).values():
            subscription.stop_watching()


def _with_ref(frame: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    ref = message.get("ref")
    return frame if ref is None else {**frame, "ref": ref}


def _named(topic: Any) -> str | None:
    """A topic the client named, as it can be echoed in an error frame (a string, cut), or None."""
    return topic[: REF_MAX_LENGTH * 2] if isinstance(topic, str) else None


async def _drop(message: Message) -> None:
    """An event of a topic this connection no longer follows."""
