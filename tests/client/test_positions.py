"""Where a topic stands (realtime/client/positions.py): entry ids, the resume point, duplicates."""

from __future__ import annotations

import pytest

from realtime.client import Frame, default_position
from realtime.client.positions import TopicPosition


def comment(entry: int) -> Frame:
    return {"type": "comment", "comment": {"id": entry, "body": "..."}, "topic": "comments:1"}


@pytest.mark.parametrize(
    ("frame", "entry"),
    [
        (comment(7), 7),
        ({"type": "notification", "id": 9, "payload": {}}, 9),
        ({"type": "replay_complete", "last_id": 4, "truncated": False}, None),
        ({"type": "presence_state", "count": 1, "users": []}, None),
        ({"type": "comment_hidden", "comment_id": 3}, None),
        ({"type": "notification", "id": True}, None),
        ({"type": "comment", "comment": "not an object"}, None),
    ],
    ids=["comment", "notification", "replay_complete", "presence", "moderation", "boolean-id", "malformed"],
)
def test_default_position_is_the_id_of_the_entry_a_frame_carries(frame: Frame, entry: int | None) -> None:
    assert default_position(frame) == entry


def test_an_entry_at_or_below_the_last_delivered_is_dropped() -> None:
    position = TopicPosition(2, default_position)
    delivered = [frame for frame in map(comment, [1, 2, 3, 3, 2, 4]) if position.deliver(frame)]
    assert delivered == [comment(3), comment(4)]


def test_frames_that_carry_no_entry_are_always_delivered() -> None:
    position = TopicPosition(5, default_position)
    presence: Frame = {"type": "presence_state", "count": 1, "users": []}
    assert [position.deliver(presence), position.deliver(presence)] == [True, True]


def test_the_resume_point_is_the_last_id_received_or_covered_by_a_replay() -> None:
    position = TopicPosition(None, default_position)
    position.receive({"type": "presence_state", "count": 1, "users": []})
    before_any_entry = position.received
    position.receive(comment(4))
    position.receive({"type": "replay_complete", "last_id": 40, "truncated": True})
    position.receive(comment(3))
    assert (before_any_entry, position.received, position.delivered) == (None, 40, None)


def test_a_custom_position_names_the_entries_of_another_kind() -> None:
    position = TopicPosition(0, lambda frame: frame.get("order_id"))
    assert [position.deliver({"type": "order", "order_id": n}) for n in (1, 1, 2)] == [True, False, True]
