"""
`typing` (PROTOCOL.md, "Presence and typing"): relayed to every other
connection following the topic, at most once per user and topic every
TYPING_INTERVAL (more are dropped without an error frame; each still counts
towards the message rate limit, as every message does), never stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realtime.layers.health import report_lost
from realtime.presence.model import PresentUser, TypingFrame, present_user
from realtime.presence.tracker import tracker
from realtime.types import Message

if TYPE_CHECKING:
    from realtime.feeds.subscription import Subscription

# Channel-layer event to the topic's group: someone is typing.
TYPED = "presence.typing"


async def on_typing(subscription: Subscription, message: dict[str, Any]) -> None:
    """A `typing` from this connection: relayed, unless the user typed on the topic within TYPING_INTERVAL."""
    consumer = subscription.consumer
    if consumer.channel_layer is None or not await tracker(consumer.hub).allow_typing(subscription):
        return
    user = present_user(consumer.user)
    event = {"type": TYPED, "topic": subscription.topic, "user": dict(user), "sender": consumer.channel_name}
    try:
        await consumer.channel_layer.group_send(subscription.group, event)
    except Exception as error:
        report_lost("relaying typing", error)


async def typed(subscription: Subscription, event: Message) -> None:
    """Someone typed on the topic: tell this connection, unless it is the one that typed."""
    if event.get("sender") == subscription.consumer.channel_name:
        return
    user: PresentUser = {"id": event["user"]["id"], "username": str(event["user"]["username"])}
    frame: TypingFrame = {"type": "typing", "topic": subscription.topic, "user": user}
    await subscription.consumer.send_json(frame)
