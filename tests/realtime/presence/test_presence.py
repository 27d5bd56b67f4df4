"""
Presence and typing on a post's topic (PROTOCOL.md, "Presence and typing"), on
`/ws/` and on `/ws/live-comments/<id>`, in one process, on a manual clock:
`presence_state` on subscribing, one `presence_diff` per PRESENCE_INTERVAL with
the interval's joins and leaves, distinct users however many connections each
has, counts only for crowds, and `typing` relayed, throttled, never echoed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from comments.models import Post
from comments.services import comment_create
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.presence import apresent
from realtime.testing import ManualClock

pytestmark = [pytest.mark.django_db(transaction=True)]

INTERVAL = 1.0
TYPING_INTERVAL = 3.0


@pytest.fixture(autouse=True)
def presence_every_second(realtime_settings: Any, realtime_clock: ManualClock) -> None:
    realtime_settings.PRESENCE_INTERVAL = INTERVAL
    realtime_settings.TYPING_INTERVAL = TYPING_INTERVAL


@pytest.fixture
def people(django_user_model: Any) -> dict[str, Any]:
    return {name: django_user_model.objects.create_user(username=name) for name in ("alice", "bob", "carol", "dave")}


def entry(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username()}


def topic_of(post: Post) -> str:
    return f"comments:{post.pk}"


async def follow(user: Any, post: Post, **fields: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """A `/ws/` connection of `user` following the post; its presence_state."""
    ws = WebsocketCommunicator(application, f"/ws/?token={issue_token(user)}")
    assert await ws.connect() == (True, None)
    await ws.send_json_to({"type": "subscribe", "topic": topic_of(post), **fields})
    assert await ws.receive_json_from() == {"type": "subscribed", "topic": topic_of(post)}
    state: dict[str, Any] = await ws.receive_json_from()
    return ws, state


async def quiet(*connections: WebsocketCommunicator) -> None:
    for ws in connections:
        assert await ws.receive_nothing(timeout=0.05)


def diff(post: Post, count: int, joins: Sequence[Any] = (), leaves: Sequence[Any] = ()) -> dict[str, Any]:
    return {
        "type": "presence_diff",
        "topic": topic_of(post),
        "count": count,
        "joins": [entry(user) for user in joins],
        "leaves": [entry(user) for user in leaves],
    }


# --- Who is here --------------------------------------------------------------------


async def test_the_first_to_follow_a_post_sees_only_itself(post: Post, people: dict[str, Any]) -> None:
    alice, state = await follow(people["alice"], post)
    assert state == {"type": "presence_state", "topic": topic_of(post), "count": 1, "users": [entry(people["alice"])]}
    await alice.disconnect()


async def test_a_user_with_several_connections_is_one_user(post: Post, people: dict[str, Any]) -> None:
    tab_one, _ = await follow(people["alice"], post)
    tab_two, state_of_second_tab = await follow(people["alice"], post)
    bob, state = await follow(people["bob"], post)
    assert state_of_second_tab["count"] == 1
    assert state == {
        "type": "presence_state",
        "topic": topic_of(post),
        "count": 2,
        "users": [entry(people["alice"]), entry(people["bob"])],
    }
    for ws in (tab_one, tab_two, bob):
        await ws.disconnect()


async def test_a_join_reaches_the_others_once_the_interval_is_over(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock
) -> None:
    alice, _ = await follow(people["alice"], post)
    bob, _ = await follow(people["bob"], post)
    await realtime_clock.advance(INTERVAL - 0.1)
    await quiet(alice, bob)
    await realtime_clock.advance(0.1)
    assert await alice.receive_json_from() == diff(post, 2, joins=[people["bob"]])
    await quiet(bob)  # its own arrival was in its presence_state already
    for ws in (alice, bob):
        await ws.disconnect()


async def test_only_a_users_last_connection_leaving_is_a_leave(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock
) -> None:
    bob, _ = await follow(people["bob"], post)
    tab_one, _ = await follow(people["alice"], post)
    tab_two, _ = await follow(people["alice"], post)
    await realtime_clock.advance(INTERVAL)
    assert await bob.receive_json_from() == diff(post, 2, joins=[people["alice"]])
    await tab_one.disconnect()
    await realtime_clock.advance(INTERVAL)
    await quiet(bob, tab_two)
    await tab_two.disconnect()
    await realtime_clock.advance(INTERVAL)
    assert await bob.receive_json_from() == diff(post, 1, leaves=[people["alice"]])
    await bob.disconnect()


async def test_who_came_and_went_within_one_interval_is_in_neither_list(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock
) -> None:
    bob, _ = await follow(people["bob"], post)
    alice, _ = await follow(people["alice"], post)
    await alice.disconnect()
    await realtime_clock.advance(INTERVAL)
    await quiet(bob)
    await bob.disconnect()


async def test_the_joins_and_leaves_of_an_interval_come_in_one_diff(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock
) -> None:
    bob, _ = await follow(people["bob"], post)
    carol, _ = await follow(people["carol"], post)
    await realtime_clock.advance(INTERVAL)
    assert await bob.receive_json_from() == diff(post, 2, joins=[people["carol"]])
    await carol.disconnect()
    alice, _ = await follow(people["alice"], post)
    dave, _ = await follow(people["dave"], post)
    await realtime_clock.advance(INTERVAL)
    assert await bob.receive_json_from() == diff(
        post, 3, joins=[people["alice"], people["dave"]], leaves=[people["carol"]]
    )
    await quiet(bob)
    for ws in (alice, bob, dave):
        await ws.disconnect()


async def test_unsubscribing_is_a_leave_and_ends_the_presence_frames(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock
) -> None:
    alice, _ = await follow(people["alice"], post)
    bob, _ = await follow(people["bob"], post)
    await realtime_clock.advance(INTERVAL)
    assert await alice.receive_json_from() == diff(post, 2, joins=[people["bob"]])
    await bob.send_json_to({"type": "unsubscribe", "topic": topic_of(post)})
    assert await bob.receive_json_from() == {"type": "unsubscribed", "topic": topic_of(post)}
    carol, _ = await follow(people["carol"], post)
    await realtime_clock.advance(INTERVAL)
    assert await alice.receive_json_from() == diff(post, 2, joins=[people["carol"]], leaves=[people["bob"]])
    await quiet(bob)
    for ws in (alice, bob, carol):
        await ws.disconnect()


# --- Crowds -------------------------------------------------------------------------


async def test_past_the_list_limit_frames_carry_the_count_only_and_the_list_comes_back_under_it(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock, realtime_settings: Any
) -> None:
    realtime_settings.PRESENCE_LIST_LIMIT = 2
    alice, _ = await follow(people["alice"], post)
    bob, _ = await follow(people["bob"], post)
    carol, state = await follow(people["carol"], post)
    assert state == {"type": "presence_state", "topic": topic_of(post), "count": 3}
    await realtime_clock.advance(INTERVAL)
    for ws in (alice, bob):  # bob's own arrival was in his state; carol's is news to both
        assert await ws.receive_json_from() == {"type": "presence_diff", "topic": topic_of(post), "count": 3}
    await quiet(carol)
    await carol.disconnect()
    await realtime_clock.advance(INTERVAL)
    # Back under the limit: the list itself, since a count was all they had.
    back = {
        "type": "presence_state",
        "topic": topic_of(post),
        "count": 2,
        "users": [entry(people["alice"]), entry(people["bob"])],
    }
    assert await alice.receive_json_from() == back
    assert await bob.receive_json_from() == back
    for ws in (alice, bob):
        await ws.disconnect()


# --- The per-post endpoint ----------------------------------------------------------


async def test_the_post_endpoint_gets_its_presence_state_right_after_accept_before_the_replay(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock
) -> None:
    comment, _ = await database_comment(post, people["bob"])
    bob, _ = await follow(people["bob"], post)
    alice = WebsocketCommunicator(
        application, f"/ws/live-comments/{post.pk}?token={issue_token(people['alice'])}&since=0"
    )
    assert await alice.connect() == (True, None)
    assert await alice.receive_json_from() == {
        "type": "presence_state",
        "topic": topic_of(post),
        "count": 2,
        "users": [entry(people["alice"]), entry(people["bob"])],
    }
    assert (await alice.receive_json_from())["comment"]["id"] == comment.pk
    assert (await alice.receive_json_from())["type"] == "replay_complete"
    await realtime_clock.advance(INTERVAL)
    assert await bob.receive_json_from() == diff(post, 2, joins=[people["alice"]])
    await alice.disconnect()
    await realtime_clock.advance(INTERVAL)
    assert await bob.receive_json_from() == diff(post, 1, leaves=[people["alice"]])
    await bob.disconnect()


async def database_comment(post: Post, user: Any) -> Any:
    from realtime.db import database_sync_to_async

    return await database_sync_to_async(comment_create)(post_id=post.pk, author=user, body="Hi", client_id=None)


# --- Typing -------------------------------------------------------------------------


async def test_typing_reaches_every_other_connection_and_not_the_sender(post: Post, people: dict[str, Any]) -> None:
    alice, _ = await follow(people["alice"], post)
    alice_elsewhere, _ = await follow(people["alice"], post)
    bob, _ = await follow(people["bob"], post)
    on_the_post_endpoint = WebsocketCommunicator(
        application, f"/ws/live-comments/{post.pk}?token={issue_token(people['carol'])}"
    )
    assert await on_the_post_endpoint.connect() == (True, None)
    assert (await on_the_post_endpoint.receive_json_from())["type"] == "presence_state"
    await alice.send_json_to({"type": "typing", "topic": topic_of(post)})
    typing = {"type": "typing", "topic": topic_of(post), "user": entry(people["alice"])}
    for ws in (bob, alice_elsewhere, on_the_post_endpoint):
        assert await ws.receive_json_from() == typing
    await quiet(alice)
    for ws in (alice, alice_elsewhere, bob, on_the_post_endpoint):
        await ws.disconnect()


async def test_typing_is_relayed_at_most_once_per_typing_interval(
    post: Post, people: dict[str, Any], realtime_clock: ManualClock
) -> None:
    alice, _ = await follow(people["alice"], post)
    bob, _ = await follow(people["bob"], post)
    typing = {"type": "typing", "topic": topic_of(post), "user": entry(people["alice"])}
    for _ in range(3):
        await alice.send_json_to({"type": "typing", "topic": topic_of(post)})
    assert await bob.receive_json_from() == typing
    await quiet(bob, alice)  # the other two dropped, without an error frame
    await realtime_clock.advance(TYPING_INTERVAL - 0.1)
    await alice.send_json_to({"type": "typing", "topic": topic_of(post)})
    await quiet(bob)
    await realtime_clock.advance(0.1)
    await alice.send_json_to({"type": "typing", "topic": topic_of(post)})
    assert await bob.receive_json_from() == typing
    for ws in (alice, bob):
        await ws.disconnect()


async def test_typing_counts_towards_the_message_rate_limit(
    post: Post, people: dict[str, Any], realtime_settings: Any
) -> None:
    realtime_settings.RATE_LIMIT_MESSAGES_PER_SECOND, realtime_settings.RATE_LIMIT_MESSAGES_BURST = 0.001, 2
    alice = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={issue_token(people['alice'])}")
    assert await alice.connect() == (True, None)
    assert (await alice.receive_json_from())["type"] == "presence_state"
    for _ in range(3):
        await alice.send_json_to({"type": "typing"})
    frame = await alice.receive_json_from()
    assert (frame["type"], frame["code"]) == ("error", "rate_limited")
    await alice.disconnect()


# --- Switched off, and read from a view ------------------------------------------------


async def test_with_presence_off_there_are_no_presence_frames_and_typing_is_dropped(
    post: Post, people: dict[str, Any], realtime_settings: Any, realtime_clock: ManualClock
) -> None:
    realtime_settings.PRESENCE = False
    connections = []
    for name in ("alice", "bob"):
        ws = WebsocketCommunicator(application, f"/ws/?token={issue_token(people[name])}")
        assert await ws.connect() == (True, None)
        await ws.send_json_to({"type": "subscribe", "topic": topic_of(post)})
        assert await ws.receive_json_from() == {"type": "subscribed", "topic": topic_of(post)}
        connections.append(ws)
    alice, bob = connections
    await bob.send_json_to({"type": "typing", "topic": topic_of(post)})
    await realtime_clock.advance(INTERVAL)
    await quiet(alice, bob)
    for ws in connections:
        await ws.disconnect()


async def test_present_tells_a_view_who_is_on_a_topic(post: Post, people: dict[str, Any]) -> None:
    alice, _ = await follow(people["alice"], post)
    bob, _ = await follow(people["bob"], post)
    watching = await apresent(topic_of(post))
    assert (watching.count, watching.users) == (2, [entry(people["alice"]), entry(people["bob"])])
    crowd = await apresent(topic_of(post), limit=1)
    assert (crowd.count, crowd.users) == (2, None)
    nobody = await apresent("comments:0")
    assert (nobody.count, nobody.users) == (0, [])
    for ws in (alice, bob):
        await ws.disconnect()


async def test_the_topics_with_presence_are_a_gauge_of_the_metrics(post: Post, people: dict[str, Any]) -> None:
    from prometheus_client import REGISTRY

    def topics() -> float | None:
        return REGISTRY.get_sample_value("realtime_presence_topics")

    before = topics() or 0.0
    other = await Post.objects.acreate(title="Another")
    alice, _ = await follow(people["alice"], post)
    bob, _ = await follow(people["bob"], post)
    carol, _ = await follow(people["carol"], other)
    assert topics() == before + 2
    for ws in (alice, bob, carol):
        await ws.disconnect()
    assert topics() == before
