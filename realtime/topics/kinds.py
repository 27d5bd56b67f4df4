"""
Kinds of topics: what a feature tells the library about the feeds a connection
can follow (PROTOCOL.md, "One connection, many topics").

A topic is named `<kind>` or `<kind>:<key>`: `notifications` (the
connection's own user's), `comments:42` (a post's). A feature registers one
`TopicKind` per kind (`realtime.registry.Feature.topics`); the library then
serves it on `/ws/` (consumers/topics.py) and, one topic per connection, on the
feature's own endpoint (consumers/feed.py), with the same replay, gap filling
and feed checks (feeds/subscription.py). A kind says:

- how to read a key from a topic's name (`parse`), for which user;
- where its entries are (`source`; None for a kind that is live only:
  nothing stored, nothing replayed) and which channel-layer group announces
  them (`group`);
- what the site's permission hook is asked (`permission_topic`);
- which channel-layer events it handles (`events`: event type -> method
  `(subscription, event)`), and which client messages about a topic
  (`client_messages`: message type -> method `(consumer, subscription, message)`);
- whether the library's presence and typing are on for its topics
  (`presence`, `typing`: realtime/presence/).

Events a feature publishes carry `"topic"` (the topic's name), so that a
connection following many topics knows whose they are.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser

if TYPE_CHECKING:
    from realtime.feeds.sequenced import FeedSource

SEPARATOR = ":"
TYPING = "typing"


class UnknownTopic(ValueError):
    """Not the name of a topic of a registered kind; `str()` says why."""


class TopicKind:
    """Subclass per kind of topic; `name` and the methods below are what a feature writes."""

    name: ClassVar[str]
    # Whether topics of the kind have a key (`comments:42`) or are the user's own (`notifications`).
    keyed: ClassVar[bool] = True
    events: ClassVar[dict[str, str]] = {}
    client_messages: ClassVar[dict[str, str]] = {}
    # The library's presence (`presence_state`, `presence_diff`) and `typing` on the kind's topics.
    presence: ClassVar[bool] = False
    typing: ClassVar[bool] = False

    def message_types(self) -> list[str]:
        """The client messages about a topic of the kind: its own, and the library's it switched on."""
        return [*self.client_messages, *([TYPING] if self.typing else [])]

    def parse(self, key: str | None, user: AbstractBaseUser) -> Hashable:
        """The key named by `key` (the part after the colon, None without one); `UnknownTopic` if it names none."""
        raise NotImplementedError

    def topic(self, key: Hashable) -> str:
        return f"{self.name}{SEPARATOR}{key}" if self.keyed else self.name

    def source(self, key: Hashable) -> FeedSource | None:
        """The key's stored entries; None: the kind is live only (its events go out with `Subscription.send`)."""
        raise NotImplementedError

    def group(self, key: Hashable) -> str:
        raise NotImplementedError

    def permission_topic(self, key: Hashable) -> str | None:
        """What the site's permission hook is asked about (None: nothing to ask, e.g. the user's own feed)."""
        return self.topic(key)


_kinds: dict[str, TopicKind] = {}


def register_topic_kind(kind: TopicKind) -> None:
    known = _kinds.setdefault(kind.name, kind)
    if known is not kind:
        raise ValueError(f"A topic kind named {kind.name!r} is already registered")


def unregister_topic_kind(kind: TopicKind) -> None:
    """Forget `kind` (a test's own kind, say: realtime.testing.topic_kind_registered)."""
    if _kinds.get(kind.name) is kind:
        del _kinds[kind.name]


def topic_kinds() -> dict[str, TopicKind]:
    return dict(_kinds)


def resolve(topic: Any, user: AbstractBaseUser) -> tuple[TopicKind, Hashable]:
    """The kind and key `topic` names, for `user`; `UnknownTopic` otherwise."""
    if not isinstance(topic, str):
        raise UnknownTopic('"topic" must be a string, such as "notifications" or "comments:42"')
    name, separator, key = topic.partition(SEPARATOR)
    kind = _kinds.get(name)
    if kind is None or bool(separator) != kind.keyed:
        raise UnknownTopic(f"No topic {_quote(topic)}; topics are: {', '.join(_examples())}")
    return kind, kind.parse(key if separator else None, user)


def _examples() -> list[str]:
    return [f"{kind.name}{SEPARATOR}<key>" if kind.keyed else kind.name for kind in _kinds.values()]


def _quote(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
