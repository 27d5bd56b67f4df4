"""`RealtimeClient` against a real daphne: subscribe, replay, send, typing, unsubscribe (PROTOCOL.md, "/ws/")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from realtime.client import MessageRejected, RealtimeClient, SubscriptionRefused, SubscriptionState
from tests.client.helpers import WAIT, comment_frame_of, comments_in_bulk, presence_state_of, take, ws_url
from tests.support.live import LiveServer

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_comments(post: Post, user: Any) -> list[Comment]:
    return comments_in_bulk(post, user, 2)


async def test_subscribe_with_since_replays_the_topic_then_completes(
    daphne_server: LiveServer, post: Post, user: Any, two_comments: list[Comment]
) -> None:
    topic = f"comments:{post.pk}"
    async with RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as client:
        subscription = await client.subscribe(topic, since=0)
        frames = await take(subscription, 5)
    first, second = two_comments
    assert frames == [
        {"type": "subscribed", "topic": topic},
        presence_state_of(topic, user),
        comment_frame_of(first, topic),
        comment_frame_of(second, topic),
        {"type": "replay_complete", "last_id": second.pk, "truncated": False, "topic": topic},
    ]
    assert subscription.since == second.pk


async def test_send_returns_the_answer_matched_by_its_ref(daphne_server: LiveServer, post: Post, user: Any) -> None:
    topic = f"comments:{post.pk}"
    async with RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as client:
        subscription = await client.subscribe(topic)
        ack = await subscription.send({"type": "new_comment", "body": "Hello", "client_id": "c1"})
        frames = await take(subscription, 3)
    comment = await Comment.objects.select_related("author").aget(post=post)
    assert ack == {"type": "comment_created", "comment_id": comment.pk, "client_id": "c1", "topic": topic, "ref": "py1"}
    # The ack is send's, not the iteration's: the iteration has the comment itself.
    assert frames == [
        {"type": "subscribed", "topic": topic},
        presence_state_of(topic, user),
        comment_frame_of(comment, topic),
    ]


async def test_an_error_frame_answering_send_raises_message_rejected(
    daphne_server: LiveServer, post: Post, user: Any
) -> None:
    topic = f"comments:{post.pk}"
    async with RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as client:
        subscription = await client.subscribe(topic)
        with pytest.raises(MessageRejected) as rejected:
            await subscription.send({"type": "new_comment", "body": ""})
    assert rejected.value.frame == {
        "type": "error",
        "code": "invalid_body",
        "message": rejected.value.frame["message"],
        "topic": topic,
        "ref": "py1",
    }
    assert rejected.value.code == "invalid_body"


async def test_typing_is_sent_without_waiting_for_an_answer_and_reaches_the_others(
    daphne_server: LiveServer, post: Post, user: Any, other_user: Any
) -> None:
    topic = f"comments:{post.pk}"
    async with (
        RealtimeClient(ws_url(daphne_server), token=issue_token(other_user)) as bob,
        RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as alice,
    ):
        watching = await bob.subscribe(topic)
        assert await take(watching, 2) == [{"type": "subscribed", "topic": topic}, presence_state_of(topic, other_user)]
        typing = await alice.subscribe(topic)
        assert await typing.send({"type": "typing"}) is None
        assert await take(watching, 1) == [
            {"type": "typing", "topic": topic, "user": {"id": user.pk, "username": user.get_username()}}
        ]


async def test_unsubscribe_ends_the_async_for(daphne_server: LiveServer, post: Post, user: Any) -> None:
    topic = f"comments:{post.pk}"
    async with RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as client:
        subscription = await client.subscribe(topic)
        seen: list[str] = []
        presence = asyncio.Event()

        async def follow() -> None:
            async for frame in subscription:
                seen.append(frame["type"])
                if frame["type"] == "presence_state":
                    presence.set()

        following = asyncio.create_task(follow())
        await asyncio.wait_for(presence.wait(), WAIT)
        await subscription.unsubscribe()
        await asyncio.wait_for(following, WAIT)
    assert seen == ["subscribed", "presence_state"]
    assert subscription.state is SubscriptionState.UNSUBSCRIBED


async def test_a_topic_may_be_subscribed_again_right_after_unsubscribe(
    daphne_server: LiveServer, post: Post, user: Any
) -> None:
    topic = f"comments:{post.pk}"
    async with RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as client:
        await (await client.subscribe(topic)).unsubscribe()
        again = await client.subscribe(topic)
        assert await take(again, 2) == [{"type": "subscribed", "topic": topic}, presence_state_of(topic, user)]


async def test_a_subscription_the_server_refuses_raises_subscription_refused(
    daphne_server: LiveServer, user: Any
) -> None:
    async with RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as client:
        with pytest.raises(SubscriptionRefused) as refused:
            await client.subscribe("comments:987654")
    assert (refused.value.code, refused.value.frame["topic"]) == ("not_found", "comments:987654")


async def test_a_position_callable_that_raises_fails_the_client_instead_of_hanging_it(
    daphne_server: LiveServer, post: Post, user: Any, two_comments: list[Comment]
) -> None:
    def broken(frame: dict[str, Any]) -> int | None:
        raise KeyError("the application's bug")

    topic = f"comments:{post.pk}"
    client = RealtimeClient(ws_url(daphne_server), token=issue_token(user), position=broken)
    async with client:
        subscription = await client.subscribe(topic, since=0)

        async def read_all() -> None:
            async with asyncio.timeout(WAIT):
                async for _ in subscription:
                    pass

        with pytest.raises(KeyError, match="the application's bug"):
            await read_all()
        assert client.state.value == "failed"
        assert isinstance(client.error, KeyError)
