"""
Where a topic stands: the id of the stored entry a frame carries, the id a
reconnect resumes after, and the last id the consumer got (so that an entry
that comes twice is delivered once).

`default_position` knows this project's kinds; a site with a kind of its own
passes `position=` (to `RealtimeClient` or to `subscribe`), as the JavaScript
client's `position` option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from realtime.client.protocol import Frame

Position: TypeAlias = Callable[[Frame], "int | None"]


def default_position(frame: Frame) -> int | None:
    """
    The id of the feed entry `frame` carries: `comment.id` of a `comment`, `id`
    of a `notification`; None for a frame that carries no entry (presence,
    typing, moderation, acks, `replay_complete`).
    """
    if frame.get("type") == "comment" and isinstance(frame.get("comment"), dict):
        return _entry_id(frame["comment"].get("id"))
    if frame.get("type") == "notification":
        return _entry_id(frame.get("id"))
    return None


class TopicPosition:
    """
    `received` is what a reconnect resubscribes with as `since`: the last entry
    id that reached the client, or the last id a replay covered (`replay_complete`'s
    `last_id`, truncated or not). Everything received waits in the subscription
    until the consumer takes it, a truncated replay is filled when the consumer
    reaches it, so resuming after `received` loses nothing and asks for nothing twice.

    `delivered` is the last entry id the consumer got: an entry at or below it
    is a duplicate, and dropped.
    """

    def __init__(self, since: int | None, position: Position) -> None:
        self.position = position
        self.received = since
        self.delivered = since

    def receive(self, frame: Frame) -> None:
        """Note a frame that reached the client."""
        entry = self.position(frame)
        if entry is None and frame.get("type") == "replay_complete":
            entry = _entry_id(frame.get("last_id"))
        if entry is not None and (self.received is None or entry > self.received):
            self.received = entry

    def deliver(self, frame: Frame) -> bool:
        """Whether the consumer gets `frame`: False for an entry delivered already."""
        entry = self.position(frame)
        if entry is None:
            return True
        if self.delivered is not None and entry <= self.delivered:
            return False
        self.delivered = entry
        return True

    def covered(self, last_id: int) -> int:
        """A filled replay covered every entry up to `last_id`: the last id delivered from now on."""
        if self.delivered is None or self.delivered < last_id:
            self.delivered = last_id
        return self.delivered


def _entry_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
