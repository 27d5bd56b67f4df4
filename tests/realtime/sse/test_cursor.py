"""
The SSE cursor (realtime/sse/cursor.py): what the server wrote comes back as it was; anything else a client
sends as `Last-Event-ID` is `InvalidCursor` (the view answers 400), never an exception of another kind.
"""

from __future__ import annotations

import base64
import json

import pytest

from realtime.sse.cursor import InvalidCursor, decode, encode


def forged(value: object | str) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_what_the_server_wrote_comes_back() -> None:
    positions = {"comments:1": ("s", 12), "notifications": ("i", 0)}
    assert decode(encode(positions)) == positions


@pytest.mark.parametrize(
    "cursor",
    [
        forged("[" * 3000),  # json.loads raises RecursionError
        forged("[" * 11000),
        forged([["comments:1", "s", 1]] * 51),  # more topics than MAX_TOPICS_PER_CONNECTION (50)
        forged([["comments:1", "x", 1]]),
        forged({"comments:1": 1}),
        "not base64 !",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not UTF-8
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode(cursor)


def test_a_cursor_over_the_topic_limit_is_refused_and_one_at_it_is_not() -> None:
    at_limit = {f"comments:{number}": ("s", number) for number in range(50)}
    assert decode(encode(at_limit)) == at_limit
    with pytest.raises(InvalidCursor):
        decode(encode({**at_limit, "notifications": ("s", 1)}))
