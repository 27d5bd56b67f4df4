"""
Hostile client frames (hypothesis strategies) and a model of what the server
must answer to each, for the property tests of every endpoint.

The model is written from PROTOCOL.md, not from the code: a frame the endpoint
cannot use gets exactly one error frame with a known code, a valid message gets
its documented answer, and nothing else is sent or written.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

# The property tests run this share of their examples (`make test`: 0.2, quick);
# CI runs them all (.ci/run sets REALTIME_PROPERTY_SCALE=1).
PROPERTY_SCALE = float(os.environ.get("REALTIME_PROPERTY_SCALE", "0.2"))
FEWEST_EXAMPLES = 10


def examples(full: int) -> int:
    """How many examples a property test that wants `full` of them runs."""
    return max(FEWEST_EXAMPLES, round(full * PROPERTY_SCALE))


MAX_DEPTH = 100  # PROTOCOL.md and docs/reference/errors.md: JSON may nest 100 levels deep
COMMENT_MAX_LENGTH = 5000
CLIENT_ID_MAX_LENGTH = 64

Kind = Literal["text", "bytes"]


@dataclass(frozen=True)
class Frame:
    kind: Kind
    data: str | bytes

    def __repr__(self) -> str:  # hypothesis prints failing examples with this
        shown = self.data if len(self.data) <= 200 else self.data[:200]
        return f"Frame({self.kind}, {shown!r}{'...' if len(self.data) > 200 else ''}, length={len(self.data)})"


# --- Strategies --------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

_dumps = st.builds(lambda value, ascii_only: json.dumps(value, ensure_ascii=ascii_only), json_values, st.booleans())
_truncated = st.builds(lambda text, cut: text[: int(len(text) * cut)], _dumps, st.floats(0, 0.99))
_deep = st.builds(
    lambda depth, shape: {
        "arrays": "[" * depth + "]" * depth,
        "objects": '{"a":' * depth + "1" + "}" * depth,
        "unclosed": "[" * depth,
        "closing": "]" * depth,
    }[shape],
    st.one_of(st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1]), st.integers(1, 3000)),
    st.sampled_from(["arrays", "objects", "unclosed", "closing"]),
)
_huge_numbers = st.one_of(
    st.integers(1, 6000).map(lambda digits: "9" * digits),  # past Python's 4,300-digit conversion limit
    st.integers(-400, 400).map(lambda exponent: f"1e{exponent}"),
    st.integers(300, 400).map(lambda exponent: f'{{"type": "ping", "n": -1.5e{exponent}}}'),
)
_escaped_surrogates = st.integers(0xD800, 0xDFFF).map(
    lambda code: json.dumps({"type": "new_comment", "body": chr(code), "client_id": chr(code)})
)
_constants = st.sampled_from(["NaN", "Infinity", "-Infinity", '{"type": "ping", "x": NaN}', "", " ", "\ufeff{}"])

_known_types = st.sampled_from(["ping", "pong", "refresh", "new_comment"])
message_types = st.one_of(
    _known_types,
    _known_types,
    _known_types,
    st.sampled_from(["notification", "comment", "error", "PING", "new_comment ", ""]),
    st.text(max_size=12),
    json_values,
)
_bodies_at_the_limit = st.builds(
    lambda size, pad: pad + "é" * size + pad,
    st.integers(COMMENT_MAX_LENGTH - 1, COMMENT_MAX_LENGTH + 1),
    st.sampled_from(["", " ", "\n"]),
)
_bodies = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\t\n", "\x00", "a\x00b", "\u3000"]),
    _bodies_at_the_limit,
    _bodies_at_the_limit,
    json_values,
)
_client_ids = st.one_of(st.text(max_size=CLIENT_ID_MAX_LENGTH + 2), st.sampled_from(["a", "a\x00", ""]), json_values)
messages = st.builds(
    lambda type_, fields, extra: {**extra, "type": type_, **fields},
    message_types,
    st.fixed_dictionaries({}, optional={"body": _bodies, "client_id": _client_ids, "token": json_values}),
    st.dictionaries(st.text(max_size=6), json_values, max_size=3),
)
_message_texts = messages.map(json.dumps)
new_comments = st.builds(
    lambda fields, extra: {**extra, "type": "new_comment", **fields},
    st.fixed_dictionaries({"body": _bodies}, optional={"client_id": _client_ids}),
    st.dictionaries(st.text(max_size=6), json_values, max_size=2),
)

texts = st.one_of(
    _message_texts,
    _message_texts,
    _message_texts,
    st.text(),
    _dumps,
    _truncated,
    _deep,
    _huge_numbers,
    _escaped_surrogates,
    _constants,
)
binaries = st.one_of(st.binary(max_size=64), texts.map(lambda text: text.encode("utf-8")))
frames = st.one_of(texts.map(lambda text: Frame("text", text)), binaries.map(lambda data: Frame("bytes", data)))
frame_lists = st.lists(frames, min_size=1, max_size=6)
# For /ws/live-comments: as many `new_comment` messages, most with fields of the wrong shape, as anything else.
comment_frame_lists = st.lists(
    frames | new_comments.map(lambda message: Frame("text", json.dumps(message))), min_size=1, max_size=6
)


# --- The model ----------------------------------------------------------------------


class _Unusable:
    def __repr__(self) -> str:
        return "UNUSABLE"


UNUSABLE = _Unusable()


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _finite(literal: str) -> float:
    number = float(literal)
    if math.isinf(number):
        raise ValueError(literal)
    return number


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def json_content(frame: Frame) -> Any:
    """The JSON value a frame holds (a binary frame as UTF-8), or UNUSABLE."""
    if isinstance(frame.data, bytes):
        try:
            text = frame.data.decode("utf-8")
        except UnicodeDecodeError:
            return UNUSABLE
    else:
        text = frame.data
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        return UNUSABLE
    return UNUSABLE if _depth(value) > MAX_DEPTH else value


def error(code: str) -> dict[str, str]:
    """An expected error frame; its message is checked to be a non-empty sentence, not word for word."""
    return {"type": "error", "code": code}


@dataclass
class CommentsModel:
    """What the live-comments endpoint must have written: one row per new client_id, one per comment without."""

    by_client_id: dict[str, int] = field(default_factory=dict)
    bodies: dict[int, str] = field(default_factory=dict)


def echo_answers(frame: Frame) -> list[Any]:
    if isinstance(frame.data, bytes):
        return [error("text_required")]
    return [f"Echo: {frame.data}"]


def json_answers(frame: Frame) -> list[Any]:
    value = json_content(frame)
    if value is UNUSABLE:
        return [error("invalid_json")]
    return [{"received": value, "status": "ok"}]


def token_answers(frame: Frame, *, writes_comments: bool) -> list[Any]:
    """The answers of `/ws/notifications` (writes_comments=False) or `/ws/live-comments/<id>`."""
    content = json_content(frame)
    if content is UNUSABLE:
        return [error("invalid_json")]
    if not isinstance(content, dict) or not isinstance(content.get("type"), str):
        return [error("invalid_message")]
    kind = content["type"]
    if kind == "ping":
        return [{"type": "pong"}]
    if kind == "pong":
        return []
    if kind == "refresh":  # the strategies never hold a valid token
        return [error("invalid_token")]
    if kind == "new_comment" and writes_comments:
        return [new_comment_answer(content)]
    if kind == "typing" and writes_comments:
        return []  # relayed to the others (there are none), nothing back
    return [error("unknown_type")]


def presence_state(topic: str, user: dict[str, Any]) -> dict[str, Any]:
    """The `presence_state` of a topic its connection's user is alone on."""
    return {"type": "presence_state", "topic": topic, "count": 1, "users": [user]}


def _storable(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def new_comment_answer(message: dict[str, Any]) -> dict[str, Any]:
    body = message.get("body")
    if not isinstance(body, str) or not body.strip():
        return error("invalid_body")
    body = body.strip()
    if len(body) > COMMENT_MAX_LENGTH or not _storable(body):
        return error("invalid_body")
    client_id = message.get("client_id")
    if client_id is not None and (
        not isinstance(client_id, str)
        or not client_id
        or len(client_id) > CLIENT_ID_MAX_LENGTH
        or not _storable(client_id)
    ):
        return error("invalid_client_id")
    return {"type": "comment_created", "client_id": client_id, "body": body}


# --- /ws/: one connection, many topics -------------------------------------------------

_usable_bodies = st.sampled_from(["hello", " é ü ", "日本語", "a" * COMMENT_MAX_LENGTH])

REF_MAX_LENGTH = 64
MAX_ID = 2**63 - 1
TOPIC_MESSAGES = ("subscribe", "unsubscribe", "new_comment", "typing")
KNOWN_KINDS = {"notifications": False, "comments": True}  # kind -> keyed
MISSING_POST = 999_999_999
# A `since` past every id this run writes: the replay is empty, and its marker names `since`.
FAR_SINCE = 2**62


def topics_strategy(post_topic: str) -> st.SearchStrategy[Any]:
    """Topics a client may name: the post's, notifications, others that are no topic, and no string at all."""
    return st.one_of(
        st.just(post_topic),
        st.just(post_topic),
        st.just("notifications"),
        st.sampled_from([f"comments:{MISSING_POST}", "comments", "comments:", "comments:x", "comments:-1"]),
        st.sampled_from(["notifications:1", "bogus", "", "x" * 200]),
        st.text(max_size=10),
        json_values,
    )


def topic_messages(post_topic: str) -> st.SearchStrategy[dict[str, Any]]:
    """Messages of `/ws/`: mostly its own types, each field often of the wrong shape."""
    fields = st.fixed_dictionaries(
        {"topic": topics_strategy(post_topic)},
        optional={
            "since": st.one_of(
                st.just(FAR_SINCE), st.just(FAR_SINCE), st.sampled_from([-1, "1", True, 1.5, MAX_ID + 1])
            ),
            "ref": st.one_of(
                st.just("r1"), st.text(max_size=REF_MAX_LENGTH), st.text(max_size=REF_MAX_LENGTH + 2), json_values
            ),
            "body": st.one_of(_usable_bodies, _usable_bodies, _bodies),
            "client_id": st.one_of(st.sampled_from(["c1", "c2"]), _client_ids),
        },
    )
    return st.builds(
        lambda type_, chosen, extra: _keep_following(post_topic, {**extra, "type": type_, **chosen}),
        st.one_of(st.sampled_from(TOPIC_MESSAGES), st.sampled_from(TOPIC_MESSAGES), message_types),
        fields,
        st.dictionaries(st.text(max_size=6), json_values, max_size=2),
    )


def _keep_following(post_topic: str, message: dict[str, Any]) -> dict[str, Any]:
    """
    No unsubscribing from the post: a comment's broadcast, which travels through
    the channel layer, could then arrive or not (tests/realtime/consumers/test_topics.py
    covers unsubscribing).
    """
    if message["type"] == "unsubscribe" and message.get("topic") == post_topic:
        return {**message, "topic": "notifications"}
    return message


def topic_frame_lists(post_topic: str) -> st.SearchStrategy[list[Frame]]:
    """Frames for `/ws/`, half of the lists starting by following the post, so that its messages are answered."""
    texts_of_messages = topic_messages(post_topic).map(lambda message: Frame("text", json.dumps(message)))
    comments = new_comments.map(lambda message: Frame("text", json.dumps({**message, "topic": post_topic})))
    lists = st.lists(texts_of_messages | texts_of_messages | comments | frames, min_size=1, max_size=8)
    follow = Frame("text", json.dumps({"type": "subscribe", "topic": post_topic}))
    return lists | lists.map(lambda rest: [follow, *rest])


@dataclass
class TopicsModel:
    """What `/ws/` must answer, message by message: it remembers which topics the connection follows."""

    post_topic: str
    # The connection's user, as presence frames show it: alone on the post.
    user: dict[str, Any]
    comments: CommentsModel = field(default_factory=CommentsModel)
    followed: set[str] = field(default_factory=set)

    def answers(self, frame: Frame) -> list[Any]:
        content = json_content(frame)
        if (
            content is UNUSABLE
            or not isinstance(content, dict)
            or not isinstance(content.get("type"), str)
            or content["type"] not in TOPIC_MESSAGES
        ):
            return token_answers(frame, writes_comments=False)
        ref = content.get("ref")
        if ref is not None and not (isinstance(ref, str) and len(ref) <= REF_MAX_LENGTH):
            return [error("invalid_message")]
        echo = {} if ref is None else {"ref": ref}
        topic = self._topic(content.get("topic"))
        if topic is None:
            named = content.get("topic")
            where = {"topic": named[: REF_MAX_LENGTH * 2]} if isinstance(named, str) else {}
            return [{**error("unknown_topic"), **where, **echo}]
        about = {"topic": topic, **echo}
        kind = content["type"]
        if kind == "subscribe":
            return self._subscribe(topic, content, about)
        if topic not in self.followed:
            return [{**error("not_subscribed"), **about}]
        if kind == "unsubscribe":
            self.followed.discard(topic)
            return [{"type": "unsubscribed", **about}]
        if topic == "notifications":
            return [{**error("unknown_type"), **about}]
        if kind == "typing":
            return []
        answer = new_comment_answer(content)
        return [{**answer, **about}]

    def _topic(self, named: Any) -> str | None:
        if not isinstance(named, str):
            return None
        kind, separator, key = named.partition(":")
        if kind not in KNOWN_KINDS or bool(separator) != KNOWN_KINDS[kind]:
            return None
        if kind == "comments" and not (key.isascii() and key.isdigit() and len(key) <= 18):
            return None
        return named if kind == "notifications" else f"comments:{int(key)}"

    def _subscribe(self, topic: str, content: dict[str, Any], about: dict[str, Any]) -> list[Any]:
        if topic in self.followed:
            return [{**error("already_subscribed"), **about}]
        since = content.get("since")
        if since is not None and (isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= MAX_ID):
            return [{**error("invalid_since"), **about}]
        if topic == f"comments:{MISSING_POST}":
            return [{**error("not_found"), **about}]
        self.followed.add(topic)
        answers: list[Any] = [{"type": "subscribed", **about}]
        if topic.startswith("comments:"):
            answers.append(presence_state(topic, self.user))
        if since is not None:
            answers.append({"type": "replay_complete", "last_id": since, "truncated": False, "topic": topic})
        return answers
