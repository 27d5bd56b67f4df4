"""
client.d.ts declares the frames the server's TypedDicts declare (declarations.py
generates that part of it), and the check of real frames against them
(`schema.problems`) refuses what they do not declare.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.typescript import declarations, schema

ALICE = {"id": 1, "username": "alice"}
COMMENT = {"id": 1, "post_id": 2, "author": "alice", "body": "Hello", "created_at": "2026-12-06T10:00:00+00:00"}


def test_the_committed_client_d_ts_holds_the_frames_the_typeddicts_declare() -> None:
    committed = declarations.committed_part(declarations.CLIENT_DTS.read_text())
    assert committed == declarations.generated(), f"client.d.ts is out of date: run {declarations.COMMAND}"


def test_each_frame_is_declared_under_its_type_in_frame_types() -> None:
    generated = declarations.generated()
    for frame_type, shape in schema.frames().items():
        name = declarations.ts_name(shape)
        assert f'export interface {name} {{\n  type: "{frame_type}";' in generated
        assert f"\n  {frame_type}: {name};\n" in generated


@pytest.mark.parametrize(
    ("frame", "labelled"),
    [
        ({"type": "comment", "comment": COMMENT}, False),
        ({"type": "comment", "comment": COMMENT, "topic": "comments:2"}, True),
        ({"type": "comment_created", "comment_id": 3, "client_id": None, "topic": "comments:2", "ref": "r"}, True),
        ({"type": "presence_state", "topic": "comments:2", "count": 120}, True),
        ({"type": "presence_diff", "topic": "comments:2", "count": 0, "joins": [], "leaves": [ALICE]}, True),
        ({"type": "notification", "id": 1, "created_at": "2026-12-06T10:00:00+00:00", "payload": {"text": "hi"}}, True),
    ],
    ids=["comment", "comment-on-a-topic", "ack-with-ref", "crowd-count-only", "diff", "notification"],
)  # fmt: skip
def test_a_declared_frame_has_no_problems(frame: dict[str, Any], labelled: bool) -> None:
    assert schema.problems(frame, labelled=labelled) == []


@pytest.mark.parametrize(
    ("frame", "labelled", "problem"),
    [
        ({"type": "comments", "comment": COMMENT}, True, "declares a frame of type 'comments'"),
        ({"type": "comment"}, True, "'comment' is missing"),
        ({"type": "comment", "comment": {**COMMENT, "id": "1"}}, True, "comment.id: '1' is not int"),
        ({"type": "comment", "comment": {**COMMENT, "id": True}}, True, "comment.id: True is not int"),
        ({"type": "comment", "comment": {**COMMENT, "html": "<b>"}}, True, "'html' is not declared"),
        ({"type": "comment", "comment": COMMENT, "topic": "comments:2"}, False, "'topic' is not declared"),
        ({"type": "comment", "comment": COMMENT, "topic": 2}, True, "topic: 2 is not str"),
        ({"type": "comment_created", "comment_id": 3, "client_id": 4}, True, "is none of"),
        ({"type": "presence_diff", "topic": "t", "count": 1, "joins": [{"id": 1}]}, True, "'username' is missing"),
        ({"type": "replay_complete", "last_id": 1, "truncated": "no"}, True, "truncated: 'no' is not bool"),
        ([], True, "a frame is a JSON object"),
    ],
    ids=[
        "unknown-type", "missing-key", "string-id", "bool-id", "undeclared-key", "topic-on-a-per-feed-endpoint",
        "topic-not-a-string", "client-id-not-a-string", "user-without-username", "truncated-not-a-bool",
        "not-an-object",
    ],
)  # fmt: skip
def test_a_frame_that_is_not_declared_so_is_refused(frame: Any, labelled: bool, problem: str) -> None:
    [found] = schema.problems(frame, labelled=labelled)
    assert problem in found
