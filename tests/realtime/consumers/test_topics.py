"""`/ws/`: one connection, many topics (PROTOCOL.md, "One connection, many topics"), message by message."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from comments.models import Comment, Post
from comments.services import (
    comment_create,
    comments_delete,
    comments_hide,
    comments_unhide,
    created_publication,
    post_group,
)
from notifications.services import anotify_user, notifications_group
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.db import database_sync_to_async
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)

create = database_sync_to_async(comment_create)
REFUSED: list[str] = []


def refuse_bob(user: Any, topic: str) -> bool:
    """A permission hook for these tests: bob may follow nothing."""
    REFUSED.append(topic)
    return bool(user.get_username() != "bob")


async def connect(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
    assert await communicator.connect() == (True, None)
    return communicator


async def subscribe(communicator: WebsocketCommunicator, topic: str, **fields: Any) -> None:
    await communicator.send_json_to({"type": "subscribe", "topic": topic, **fields})
    answer = {"type": "subscribed", "topic": topic}
    assert await communicator.receive_json_from() == ({**answer, "ref": fields["ref"]} if "ref" in fields else answer)
    if topic.startswith("comments:"):
        await receive_presence_state(communicator, topic)


def error(code: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **fields}


def complete(topic: str, last_id: int, *, truncated: bool = False) -> dict[str, Any]:
    return {"type": "replay_complete", "last_id": last_id, "truncated": truncated, "topic": topic}


async def comment_on(post: Post, user: Any, body: str) -> Comment:
    comment, _ = await create(post_id=post.pk, author=user, body=body, client_id=None)
    return comment


def comment_frame_of(comment: Comment, topic: str) -> dict[str, Any]:
    return {
        "type": "comment",
        "comment": {
            "id": comment.pk,
            "post_id": comment.post_id,
            "author": comment.author.get_username(),
            "body": comment.body,
            "created_at": comment.created_at.isoformat(),
        },
        "topic": topic,
    }


# --- Subscribing ------------------------------------------------------------------


async def test_a_connection_needs_a_token_as_every_token_endpoint() -> None:
    assert await WebsocketCommunicator(application, "/ws/").connect() == (False, 1008)


async def test_subscribing_to_notifications_delivers_the_users_own_labelled(
    user: Any, other_user: Any, token: str
) -> None:
    ws = await connect(token)
    await subscribe(ws, "notifications", ref="n1")
    await anotify_user(other_user, {"text": "not mine"})
    mine = await anotify_user(user, {"text": "mine"})
    frame = await ws.receive_json_from()
    assert (frame["type"], frame["id"], frame["payload"], frame["topic"]) == (
        "notification",
        mine.pk,
        {"text": "mine"},
        "notifications",
    )
    assert await ws.receive_nothing()
    await ws.disconnect()


async def test_nothing_of_a_topic_arrives_before_subscribing(user: Any, token: str) -> None:
    ws = await connect(token)
    await anotify_user(user, {"text": "before"})
    assert await ws.receive_nothing()
    await ws.disconnect()


async def test_since_replays_the_topic_labelled_then_marks_it_complete_then_live(
    post: Post, user: Any, token: str
) -> None:
    topic = f"comments:{post.pk}"
    first, second = await comment_on(post, user, "one"), await comment_on(post, user, "two")
    ws = await connect(token)
    await subscribe(ws, topic, since=0)
    assert await ws.receive_json_from() == comment_frame_of(first, topic)
    assert await ws.receive_json_from() == comment_frame_of(second, topic)
    assert await ws.receive_json_from() == complete(topic, second.pk)
    third = await comment_on(post, user, "three")
    assert await ws.receive_json_from() == comment_frame_of(third, topic)
    await ws.disconnect()


async def test_two_topics_replay_each_from_its_own_since(post: Post, user: Any, token: str) -> None:
    topic = f"comments:{post.pk}"
    seen, unseen = await comment_on(post, user, "seen"), await comment_on(post, user, "unseen")
    old, new = await anotify_user(user, {"n": 1}), await anotify_user(user, {"n": 2})
    ws = await connect(token)
    await subscribe(ws, topic, since=seen.pk)
    assert await ws.receive_json_from() == comment_frame_of(unseen, topic)
    assert await ws.receive_json_from() == complete(topic, unseen.pk)
    await subscribe(ws, "notifications", since=old.pk)
    replayed = await ws.receive_json_from()
    assert (replayed["id"], replayed["topic"]) == (new.pk, "notifications")
    assert await ws.receive_json_from() == complete("notifications", new.pk)
    await ws.disconnect()


async def test_a_replay_past_the_limit_is_truncated_with_the_newest_id(
    post: Post, user: Any, token: str, realtime_settings: Any
) -> None:
    realtime_settings.REPLAY_LIMIT = 1
    topic = f"comments:{post.pk}"
    await comment_on(post, user, "one")
    newest = await comment_on(post, user, "two")
    ws = await connect(token)
    await subscribe(ws, topic, since=0)
    assert await ws.receive_json_from() == complete(topic, newest.pk, truncated=True)
    await ws.disconnect()


@pytest.mark.usefixtures("in_memory_layer")  # reads the layer's groups
async def test_a_connection_holds_one_channel_in_the_group_of_each_topic(post: Post, user: Any, token: str) -> None:
    other = await Post.objects.acreate(title="Another")
    ws = await connect(token)
    for topic in ("notifications", f"comments:{post.pk}", f"comments:{other.pk}"):
        await subscribe(ws, topic)
    layer = get_channel_layer()
    groups = [notifications_group(user.pk), post_group(post.pk), post_group(other.pk)]
    members = [set(layer.groups.get(group, {})) for group in groups]
    assert len(members[0]) == 1
    assert members == [members[0]] * 3
    await ws.disconnect()


# --- Unsubscribing -------------------------------------------------------------------


async def test_unsubscribing_leaves_the_group_at_once_and_nothing_more_arrives(
    post: Post, user: Any, token: str
) -> None:
    topic = f"comments:{post.pk}"
    ws = await connect(token)
    await subscribe(ws, topic)
    await ws.send_json_to({"type": "unsubscribe", "topic": topic, "ref": "u"})
    assert await ws.receive_json_from() == {"type": "unsubscribed", "topic": topic, "ref": "u"}
    assert post_group(post.pk) not in get_channel_layer().groups
    await comment_on(post, user, "after")
    assert await ws.receive_nothing()
    await ws.disconnect()


@pytest.mark.usefixtures("in_memory_layer")  # reads the layer's groups
async def test_an_event_of_a_topic_that_arrives_after_unsubscribing_is_dropped(
    post: Post, user: Any, token: str
) -> None:
    topic = f"comments:{post.pk}"
    ws = await connect(token)
    await subscribe(ws, topic)
    layer = get_channel_layer()
    (channel,) = layer.groups[post_group(post.pk)]
    await ws.send_json_to({"type": "unsubscribe", "topic": topic})
    assert await ws.receive_json_from() == {"type": "unsubscribed", "topic": topic}
    with mock.patch("realtime.feeds.publish.publish"):
        late = await comment_on(post, user, "already on its way")
    await layer.send(channel, created_publication(late)[1])
    assert await ws.receive_nothing()
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


async def test_a_topic_can_be_followed_again_after_unsubscribing(post: Post, user: Any, token: str) -> None:
    topic = f"comments:{post.pk}"
    ws = await connect(token)
    await subscribe(ws, topic)
    await ws.send_json_to({"type": "unsubscribe", "topic": topic})
    assert await ws.receive_json_from() == {"type": "unsubscribed", "topic": topic}
    missed = await comment_on(post, user, "while away")
    await subscribe(ws, topic, since=0)
    assert await ws.receive_json_from() == comment_frame_of(missed, topic)
    assert await ws.receive_json_from() == complete(topic, missed.pk)
    await ws.disconnect()


# --- Comments on a topic ----------------------------------------------------------


async def test_new_comment_is_acknowledged_with_topic_and_ref_and_reaches_every_watcher(
    post: Post, user: Any, other_user: Any, token: str
) -> None:
    topic = f"comments:{post.pk}"
    writer, watcher = await connect(token), await connect(issue_token(other_user))
    await subscribe(writer, topic)
    await subscribe(watcher, topic)
    await writer.send_json_to({"type": "new_comment", "topic": topic, "body": "hello", "client_id": "c1", "ref": "r1"})
    ack = await writer.receive_json_from()
    comment = await Comment.objects.select_related("author").aget(post=post)
    assert ack == {"type": "comment_created", "comment_id": comment.pk, "client_id": "c1", "topic": topic, "ref": "r1"}
    assert await writer.receive_json_from() == comment_frame_of(comment, topic)
    assert await watcher.receive_json_from() == comment_frame_of(comment, topic)
    await writer.disconnect()
    await watcher.disconnect()


async def test_a_retried_new_comment_names_the_first_comment(post: Post, token: str) -> None:
    topic = f"comments:{post.pk}"
    ws = await connect(token)
    await subscribe(ws, topic)
    message = {"type": "new_comment", "topic": topic, "body": "once", "client_id": "same"}
    await ws.send_json_to(message)
    first = await ws.receive_json_from()
    await ws.receive_json_from()  # the comment itself
    await ws.send_json_to(message)
    assert await ws.receive_json_from() == first
    assert await Comment.objects.filter(post=post).acount() == 1
    await ws.disconnect()


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"body": "  "}, "invalid_body"), ({"body": "x", "client_id": ""}, "invalid_client_id")],
    ids=["blank-body", "empty-client-id"],
)
async def test_new_comment_errors_carry_topic_and_ref(post: Post, token: str, fields: Any, code: str) -> None:
    topic = f"comments:{post.pk}"
    ws = await connect(token)
    await subscribe(ws, topic)
    await ws.send_json_to({"type": "new_comment", "topic": topic, "ref": "r", **fields})
    frame = await ws.receive_json_from()
    assert (frame["type"], frame["code"], frame["topic"], frame["ref"]) == ("error", code, topic, "r")
    assert await Comment.objects.acount() == 0
    await ws.disconnect()


async def test_moderation_reaches_the_topic_labelled(post: Post, user: Any, token: str) -> None:
    topic = f"comments:{post.pk}"
    comment = await comment_on(post, user, "moderate me")
    ws = await connect(token)
    await subscribe(ws, topic)
    chosen = Comment.objects.filter(pk=comment.pk)
    await database_sync_to_async(comments_hide)(comments=chosen)
    assert await ws.receive_json_from() == {"type": "comment_hidden", "comment_id": comment.pk, "topic": topic}
    await database_sync_to_async(comments_unhide)(comments=chosen)
    unhidden = comment_frame_of(comment, topic) | {"type": "comment_unhidden"}
    assert await ws.receive_json_from() == unhidden
    await database_sync_to_async(comments_delete)(comments=chosen)
    assert await ws.receive_json_from() == {"type": "comment_deleted", "comment_id": comment.pk, "topic": topic}
    await ws.disconnect()


async def test_typing_on_a_followed_post_sends_nothing_back(post: Post, token: str) -> None:
    topic = f"comments:{post.pk}"
    ws = await connect(token)
    await subscribe(ws, topic)
    await ws.send_json_to({"type": "typing", "topic": topic})
    assert await ws.receive_nothing()
    await ws.disconnect()


async def test_a_lost_live_event_of_a_topic_is_filled_in_from_the_database(post: Post, user: Any, token: str) -> None:
    topic = f"comments:{post.pk}"
    ws = await connect(token)
    await subscribe(ws, topic)
    with mock.patch("realtime.feeds.publish.publish"):
        lost = await comment_on(post, user, "lost on the way")
    following = await comment_on(post, user, "next")
    assert await ws.receive_json_from() == comment_frame_of(lost, topic)
    assert await ws.receive_json_from() == comment_frame_of(following, topic)
    await ws.disconnect()


# --- Errors, each with topic (and ref), the connection staying open ------------------------


@pytest.mark.parametrize(
    ("topic", "echoed", "reason"),
    [
        ("bogus", "bogus", "No topic 'bogus'; topics are: notifications, comments:<key>."),
        (
            "notifications:3",
            "notifications:3",
            "No topic 'notifications:3'; topics are: notifications, comments:<key>.",
        ),
        ("comments", "comments", "No topic 'comments'; topics are: notifications, comments:<key>."),
        ("comments:abc", "comments:abc", 'No topic "comments:abc": a post id is a number, as in "comments:42".'),
        (7, None, '"topic" must be a string, such as "notifications" or "comments:42".'),
    ],
    ids=["unknown-kind", "keyed-notifications", "comments-without-key", "comments-not-a-number", "not-a-string"],
)
async def test_a_topic_of_no_registered_kind_is_unknown_topic(token: str, topic: Any, echoed: Any, reason: str) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": topic, "ref": "s"})
    fields = {"ref": "s"} if echoed is None else {"topic": echoed, "ref": "s"}
    assert await ws.receive_json_from() == error("unknown_topic", reason, **fields)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


async def test_a_post_that_does_not_exist_is_not_found_and_leaves_no_group(token: str) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": "comments:999999"})
    assert await ws.receive_json_from() == error("not_found", "There is no comments:999999.", topic="comments:999999")
    assert post_group(999999) not in get_channel_layer().groups
    await ws.disconnect()


@pytest.mark.usefixtures("in_memory_layer")  # reads the layer's groups
async def test_the_permission_hook_decides_who_may_subscribe(
    post: Post, token: str, other_user: Any, realtime_settings: Any
) -> None:
    REFUSED.clear()
    realtime_settings.TOPIC_PERMISSION = f"{__name__}.refuse_bob"
    topic = f"comments:{post.pk}"
    bob, alice = await connect(issue_token(other_user)), await connect(token)
    await bob.send_json_to({"type": "subscribe", "topic": topic})
    assert await bob.receive_json_from() == error("forbidden", f"This user may not follow {topic}.", topic=topic)
    await subscribe(alice, topic)
    await bob.send_json_to({"type": "subscribe", "topic": "notifications"})
    assert await bob.receive_json_from() == {"type": "subscribed", "topic": "notifications"}
    assert [topic, topic] == REFUSED  # a user's own notifications are not asked about
    assert len(get_channel_layer().groups[post_group(post.pk)]) == 1  # alice's channel; bob left no trace
    await bob.disconnect()
    await alice.disconnect()


async def test_subscribing_twice_is_already_subscribed(token: str) -> None:
    ws = await connect(token)
    await subscribe(ws, "notifications")
    await ws.send_json_to({"type": "subscribe", "topic": "notifications", "ref": "again"})
    assert await ws.receive_json_from() == error(
        "already_subscribed", "This connection follows notifications already.", topic="notifications", ref="again"
    )
    await ws.disconnect()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "unsubscribe", "topic": "notifications"},
        {"type": "new_comment", "topic": "comments:POST", "body": "hi"},
        {"type": "typing", "topic": "comments:POST"},
    ],
    ids=["unsubscribe", "new_comment", "typing"],
)
async def test_a_message_about_a_topic_not_followed_is_not_subscribed(
    post: Post, token: str, message: dict[str, Any]
) -> None:
    topic = message["topic"].replace("POST", str(post.pk))
    ws = await connect(token)
    await ws.send_json_to({**message, "topic": topic})
    assert await ws.receive_json_from() == error(
        "not_subscribed", f"This connection does not follow {topic}.", topic=topic
    )
    assert await Comment.objects.acount() == 0
    await ws.disconnect()


async def test_past_max_topics_per_connection_is_too_many_topics(
    post: Post, token: str, realtime_settings: Any
) -> None:
    realtime_settings.MAX_TOPICS_PER_CONNECTION = 1
    ws = await connect(token)
    await subscribe(ws, "notifications")
    await ws.send_json_to({"type": "subscribe", "topic": f"comments:{post.pk}"})
    assert await ws.receive_json_from() == error(
        "too_many_topics",
        "A connection may follow at most 1 topics; unsubscribe from one first.",
        topic=f"comments:{post.pk}",
    )
    await ws.send_json_to({"type": "unsubscribe", "topic": "notifications"})
    assert await ws.receive_json_from() == {"type": "unsubscribed", "topic": "notifications"}
    await subscribe(ws, f"comments:{post.pk}")
    await ws.disconnect()


@pytest.mark.parametrize("since", ["3", -1, 1.5, True, 2**63], ids=["string", "negative", "fraction", "bool", "huge"])
async def test_an_invalid_since_subscribes_nothing(token: str, since: Any) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": "notifications", "since": since})
    assert await ws.receive_json_from() == error(
        "invalid_since",
        '"since", when given, must be a non-negative integer id; nothing was subscribed.',
        topic="notifications",
    )
    await subscribe(ws, "notifications")
    await ws.disconnect()


@pytest.mark.parametrize("ref", [5, "r" * 65, ["r"]], ids=["number", "too-long", "list"])
async def test_an_unusable_ref_is_invalid_message(token: str, ref: Any) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": "notifications", "ref": ref})
    assert await ws.receive_json_from() == error(
        "invalid_message", '"ref", when given, must be a string of at most 64 characters.'
    )
    await subscribe(ws, "notifications")
    await ws.disconnect()


async def test_an_unknown_type_names_the_messages_of_ws(token: str) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "publish"})
    assert await ws.receive_json_from() == error(
        "unknown_type",
        "Unknown message type 'publish'; this endpoint accepts: "
        "ping, pong, refresh, subscribe, unsubscribe, new_comment, typing.",
    )
    await ws.disconnect()
