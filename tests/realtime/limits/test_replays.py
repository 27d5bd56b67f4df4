"""
Replays budgeted per user (realtime/limits/replays.py): past the budget, a
`subscribe` with `since` gets `rate_limited` before any database work, a
per-feed endpoint's `?since=` is refused before accept (4429), and other
users replay as before.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from comments.models import Comment, Post
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.feeds.subscription import Subscription
from realtime.limits.replays import ReplayBudgets
from realtime.testing import ManualClock
from tests.support.presence import is_state_with

pytestmark = pytest.mark.django_db(transaction=True)

COMMENTS = 15
# A replay of the post reads its 15 ids, then its 15 entries, and counts one for the query: 31.
ONE_REPLAY = 2 * COMMENTS + 1
REFUSED_TEXT = (
    "Too many replays: a user may have 0.5 entries a second replayed, in bursts of up to 40. "
    "Nothing was subscribed; subscribe again, with since, in a few seconds."
)


@pytest.fixture
def budget(realtime_settings: Any) -> None:
    realtime_settings.RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND = 0.5
    realtime_settings.RATE_LIMIT_REPLAY_ENTRIES_BURST = 40


@pytest.fixture
def commented(post: Post, user: Any) -> Post:
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(post=post, author=user, body=f"#{n}", seq=n, created_at=now) for n in range(1, COMMENTS + 1)
    )
    Post.objects.filter(pk=post.pk).update(last_comment_seq=COMMENTS)
    return post


# --- The budget ------------------------------------------------------------------------


def test_a_user_may_replay_while_the_budget_is_above_zero_and_pays_back_its_debt(budget: None) -> None:
    budgets = ReplayBudgets()
    assert budgets.allows("alice", now=0.0)
    budgets.spend("alice", ONE_REPLAY, now=0.0)  # 40 - 31 = 9 left
    assert budgets.allows("alice", now=0.0)
    budgets.spend("alice", ONE_REPLAY, now=0.0)  # 9 - 31 = -22: a debt
    assert not budgets.allows("alice", now=0.0)
    assert budgets.allows("bob", now=0.0)
    assert not budgets.allows("alice", now=44.0)  # -22 + 22 = 0: still not above zero
    assert budgets.allows("alice", now=46.0)


def test_users_whose_budget_is_full_again_are_forgotten(budget: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("realtime.limits.replays.SWEEP_AT_LEAST", 2)
    budgets = ReplayBudgets()
    budgets.spend("alice", 1, now=0.0)
    budgets.spend("bob", 1, now=0.0)
    budgets.spend("carol", 1, now=10.0)  # alice and bob are full again: swept before carol is added
    assert list(budgets._buckets) == ["carol"]


# --- /ws/ ----------------------------------------------------------------------------------


async def subscribed_and_replayed(ws: WebsocketCommunicator, topic: str) -> list[str]:
    """Subscribe with since 0 and read until replay_complete; the types of the frames."""
    await ws.send_json_to({"type": "subscribe", "topic": topic, "since": 0, "ref": "s"})
    types: list[str] = []
    while not types or types[-1] != "replay_complete":
        types.append((await ws.receive_json_from())["type"])
    await ws.send_json_to({"type": "unsubscribe", "topic": topic})
    assert (await ws.receive_json_from())["type"] == "unsubscribed"
    return types


@pytest.mark.usefixtures("budget")
async def test_a_subscribe_with_since_past_the_budget_is_rate_limited_and_subscribes_nothing(
    commented: Post, user: Any, realtime_clock: ManualClock
) -> None:
    topic = f"comments:{commented.pk}"
    ws = WebsocketCommunicator(application, f"/ws/?token={issue_token(user)}")
    assert await ws.connect() == (True, None)
    expected = ["subscribed", "presence_state", *["comment"] * COMMENTS, "replay_complete"]
    assert await subscribed_and_replayed(ws, topic) == expected
    assert await subscribed_and_replayed(ws, topic) == expected  # 9 left before it: allowed, then in debt

    with mock.patch.object(Subscription, "open", side_effect=AssertionError("no database work")) as opened:
        await ws.send_json_to({"type": "subscribe", "topic": topic, "since": 0, "ref": "again"})
        refused = await ws.receive_json_from()
    assert refused == {"type": "error", "code": "rate_limited", "message": REFUSED_TEXT, "topic": topic, "ref": "again"}
    opened.assert_not_called()
    await ws.send_json_to({"type": "subscribe", "topic": topic, "ref": "live"})  # without since: no replay, allowed
    assert await ws.receive_json_from() == {"type": "subscribed", "topic": topic, "ref": "live"}
    await ws.disconnect()


@pytest.mark.usefixtures("budget")
async def test_the_budget_is_the_users_not_the_connections_and_other_users_keep_theirs(
    commented: Post, user: Any, other_user: Any, realtime_clock: ManualClock, realtime_settings: Any
) -> None:
    realtime_settings.HEARTBEAT_INTERVAL = 3600  # the clock moves a minute: no ping meanwhile
    topic = f"comments:{commented.pk}"
    mine = [WebsocketCommunicator(application, f"/ws/?token={issue_token(user)}") for _ in range(3)]
    theirs = WebsocketCommunicator(application, f"/ws/?token={issue_token(other_user)}")
    for ws in (*mine, theirs):
        assert await ws.connect() == (True, None)
    await subscribed_and_replayed(mine[0], topic)
    await subscribed_and_replayed(mine[1], topic)
    await mine[2].send_json_to({"type": "subscribe", "topic": topic, "since": 0})
    assert (await mine[2].receive_json_from())["code"] == "rate_limited"
    assert (await subscribed_and_replayed(theirs, topic))[-1] == "replay_complete"

    await realtime_clock.advance(60)  # 30 entries paid back: the debt of 22 is gone
    assert (await subscribed_and_replayed(mine[2], topic))[-1] == "replay_complete"
    for ws in (*mine, theirs):
        await ws.disconnect()


# --- A per-feed endpoint's ?since= ----------------------------------------------------------


@pytest.mark.usefixtures("budget")
async def test_a_per_feed_replay_past_the_budget_is_refused_before_accept_with_4429(
    commented: Post, user: Any, realtime_clock: ManualClock
) -> None:
    token = issue_token(user)
    for _ in range(2):
        ws = WebsocketCommunicator(application, f"/ws/live-comments/{commented.pk}?token={token}&since=0")
        assert await ws.connect() == (True, None)
        frames = [await ws.receive_json_from() for _ in range(COMMENTS + 2)]
        assert is_state_with(frames[0], f"comments:{commented.pk}", user)
        assert frames[-1] == {"type": "replay_complete", "last_id": frames[-2]["comment"]["id"], "truncated": False}
        await ws.disconnect()

    refused = WebsocketCommunicator(application, f"/ws/live-comments/{commented.pk}?token={token}&since=0")
    assert await refused.connect() == (False, 4429)
    live = WebsocketCommunicator(application, f"/ws/live-comments/{commented.pk}?token={token}")
    assert await live.connect() == (True, None)  # without since it replays nothing: allowed
    await live.disconnect()
