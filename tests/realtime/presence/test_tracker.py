"""
The tracker's batching, on its own (realtime/presence/tracker.py): what each
connection is sent from a run of changes, with stand-ins for connections.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from realtime.hub import hub
from realtime.presence.memory import MemoryPresence
from realtime.presence.model import Change, PresentUser
from realtime.presence.tracker import FRAME, Listener, TopicPresence, Tracker
from realtime.testing import ManualClock, use_clock

TOPIC = "comments:1"
LIMIT = 100


@dataclass
class Connection:
    events: list[dict[str, Any]] = field(default_factory=list)

    def frames(self) -> list[Any]:
        assert all(event["type"] == FRAME and event["topic"] == TOPIC for event in self.events)
        return [json.loads(event["text"]) for event in self.events]


def sent(tracker: Tracker) -> None:
    """What the tick would send: handed to the stand-ins."""
    for subscription, event in tracker._outbox:
        subscription.consumer.events.append(event)
    tracker._outbox.clear()


@dataclass(eq=False)
class Follower:
    consumer: Connection
    topic: str = TOPIC


def user(number: int) -> PresentUser:
    return {"id": number, "username": f"user{number}"}


def joins(*versions: int, count_from: int) -> dict[int, Change]:
    return {v: Change(TOPIC, user(v), True, v, count_from + i + 1) for i, v in enumerate(versions)}


def topic_with(listeners: dict[Follower, Listener], log: dict[int, Change]) -> TopicPresence:
    presence = TopicPresence(TOPIC)
    presence.listeners = listeners  # type: ignore[assignment]  # stand-ins for subscriptions
    presence.log = log
    return presence


async def test_connections_past_the_limit_get_the_newest_count_even_with_a_change_missing() -> None:
    crowd = Follower(Connection())
    presence = topic_with({crowd: Listener(version=10, count=150, listed=False)}, joins(12, 13, count_from=151))
    tracker = Tracker(hub(), MemoryPresence())
    tracker._flush(TOPIC, presence, LIMIT)
    sent(tracker)
    assert crowd.consumer.frames() == [{"type": "presence_diff", "topic": TOPIC, "count": 153}]
    assert presence.log == {}  # everyone has had everything


async def test_a_listed_connection_waits_for_a_missing_change_then_the_topic_is_read_again(
    realtime_settings: Any,
) -> None:
    realtime_settings.PRESENCE_INTERVAL = 0.5  # the patience is GAP_PATIENCE, 2 s
    clock = ManualClock()
    use_clock(clock)
    listed = Follower(Connection())
    presence = topic_with({listed: Listener(version=10, count=5, listed=True)}, joins(12, count_from=6))
    tracker = Tracker(hub(), MemoryPresence())
    tracker._flush(TOPIC, presence, LIMIT)
    sent(tracker)
    assert (listed.consumer.frames(), presence.rebase) == ([], False)  # change 11 is awaited
    await clock.advance(1.9)
    tracker._flush(TOPIC, presence, LIMIT)
    sent(tracker)
    assert presence.rebase is False
    presence.log.update(joins(11, count_from=5))  # it came: both in one diff
    tracker._flush(TOPIC, presence, LIMIT)
    sent(tracker)
    assert listed.consumer.frames() == [
        {
            "type": "presence_diff",
            "topic": TOPIC,
            "count": 7,
            "joins": [user(11), user(12)],
            "leaves": [],
        }
    ]
    presence.log.update(joins(14, count_from=7))  # 13 missing, for good
    tracker._flush(TOPIC, presence, LIMIT)
    sent(tracker)
    await clock.advance(2.1)  # past GAP_PATIENCE
    tracker._flush(TOPIC, presence, LIMIT)
    sent(tracker)
    assert presence.rebase is True


async def test_connections_sent_the_same_share_one_frame_and_a_joining_one_keeps_the_log() -> None:
    first, second, joining = Follower(Connection()), Follower(Connection()), Follower(Connection())
    listeners = {
        first: Listener(version=1, count=1, listed=True),
        second: Listener(version=1, count=1, listed=True),
        joining: Listener(floor=2),  # its presence_state is on its way
    }
    presence = topic_with(listeners, joins(2, 3, count_from=1))
    tracker = Tracker(hub(), MemoryPresence())
    tracker._flush(TOPIC, presence, LIMIT)
    sent(tracker)
    assert (
        first.consumer.frames()
        == second.consumer.frames()
        == [{"type": "presence_diff", "topic": TOPIC, "count": 3, "joins": [user(2), user(3)], "leaves": []}]
    )
    assert first.consumer.events[0]["text"] is second.consumer.events[0]["text"]  # encoded once
    assert sorted(presence.log) == [3]  # what the joining one may still need
