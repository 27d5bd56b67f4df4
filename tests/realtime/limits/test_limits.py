"""Rate limits per connection (error frames, then 4429) and the cap on each user's open connections."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import redis.asyncio
from channels.testing import WebsocketCommunicator

from comments.models import Comment, Post
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.hub import hub
from realtime.limits import connections as connection_cap
from realtime.limits.ratelimit import Rate, TokenBucket
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)

PONG = {"type": "pong"}


def rate_limited(what: str, rate: str) -> dict[str, str]:
    return {
        "type": "error",
        "code": "rate_limited",
        "message": f"Too many {what}: this connection may send {rate}. "
        "This one was not handled; wait, then send it again.",
    }


@pytest.fixture
def tight_limits(realtime_settings: Any) -> None:
    realtime_settings.RATE_LIMIT_MESSAGES_PER_SECOND = 0.001
    realtime_settings.RATE_LIMIT_MESSAGES_BURST = 3
    realtime_settings.RATE_LIMIT_STRIKES = 2
    realtime_settings.RATE_LIMIT_STRIKE_SECONDS = 1000


# --- Token buckets ----------------------------------------------------------------


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(Rate(per_second=2, burst=3), now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.25) is False  # half a token so far
    assert bucket.take(0.5) is True  # one token after half a second
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # never more than the burst


# --- Messages -----------------------------------------------------------------------


@pytest.mark.usefixtures("tight_limits")
async def test_messages_over_the_budget_get_an_error_frame_and_are_not_handled(token: str) -> None:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    for _ in range(4):
        await communicator.send_json_to({"type": "ping"})
    assert [await communicator.receive_json_from() for _ in range(4)] == [
        PONG,
        PONG,
        PONG,
        rate_limited("messages", "0.001 a second, in bursts of up to 3"),
    ]
    await communicator.disconnect()


@pytest.mark.usefixtures("tight_limits")
async def test_sustained_abuse_closes_the_connection_with_4429(token: str) -> None:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    for _ in range(6):
        await communicator.send_json_to({"type": "ping"})
    frames = [await communicator.receive_output() for _ in range(6)]
    assert [frame["type"] for frame in frames] == ["websocket.send"] * 5 + ["websocket.close"]
    assert frames[-1] == {"type": "websocket.close", "code": 4429, "reason": ""}
    await communicator.disconnect()


@pytest.mark.usefixtures("tight_limits")
@pytest.mark.parametrize("path", ["/ws/echo", "/ws/json"])
async def test_the_open_endpoints_are_limited_too(path: str) -> None:
    communicator = WebsocketCommunicator(application, path)
    assert await communicator.connect() == (True, None)
    for _ in range(4):
        await communicator.send_to(text_data="1")
    answers = [await communicator.receive_from() for _ in range(4)]
    assert json.loads(answers[3]) == rate_limited("messages", "0.001 a second, in bursts of up to 3")
    await communicator.disconnect()


async def test_comments_have_a_budget_of_their_own(post: Post, token: str, realtime_settings: Any) -> None:
    realtime_settings.RATE_LIMIT_COMMENTS_PER_SECOND, realtime_settings.RATE_LIMIT_COMMENTS_BURST = 0.001, 2
    communicator = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}")
    assert await communicator.connect() == (True, None)
    await receive_presence_state(communicator, f"comments:{post.pk}")
    for number in range(3):
        await communicator.send_json_to({"type": "new_comment", "body": f"#{number}"})
    frames = [await communicator.receive_json_from() for _ in range(5)]
    errors = [frame for frame in frames if frame["type"] == "error"]
    assert errors == [rate_limited("comments", "0.001 a second, in bursts of up to 2")]
    assert [c async for c in Comment.objects.order_by("id").values_list("body", flat=True)] == ["#0", "#1"]
    await communicator.send_json_to({"type": "ping"})  # other messages still go through
    assert await communicator.receive_json_from() == PONG
    await communicator.disconnect()


# --- Open connections per user --------------------------------------------------------


async def connect(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    return communicator


async def test_a_user_at_the_cap_is_refused_before_accept_and_others_are_not(
    user: Any, other_user: Any, realtime_settings: Any
) -> None:
    realtime_settings.MAX_CONNECTIONS_PER_USER = 2
    token = issue_token(user)
    first, second = await connect(token), await connect(token)
    assert await WebsocketCommunicator(application, f"/ws/notifications?token={token}").connect() == (False, 4429)
    someone_else = await connect(issue_token(other_user))
    await first.disconnect()
    third = await connect(token)  # the slot came back
    for communicator in (second, someone_else, third):
        await communicator.disconnect()


async def test_the_cap_counts_every_token_endpoint(user: Any, post: Post, realtime_settings: Any) -> None:
    realtime_settings.MAX_CONNECTIONS_PER_USER = 1
    token = issue_token(user)
    notifications = await connect(token)
    comments = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}")
    assert await comments.connect() == (False, 4429)
    await notifications.disconnect()


@pytest.mark.services
async def test_redis_leases_of_a_vanished_process_run_out(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    keeper, here = connection_cap.slots(), hub()
    assert isinstance(keeper, connection_cap.RedisSlots)
    await keeper.client.delete(connection_cap.key("lease-test"))
    assert await keeper.take(here, "lease-test", "from-a-dead-process", cap=1)
    assert not await keeper.take(here, "lease-test", "new", cap=1)
    here.give_back_slot("from-a-dead-process")  # its process died: the lease stays in Redis, renewed by nobody
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + connection_cap.LEASE_SECONDS + 1)
    assert await keeper.take(here, "lease-test", "new", cap=1)
    await keeper.give_back(here, "new")
    assert here.held_slots() == {}


@pytest.mark.services
async def test_a_burst_of_handshakes_waits_for_one_of_a_bounded_pool_of_redis_connections() -> None:
    keeper = connection_cap.slots()
    assert isinstance(keeper, connection_cap.RedisSlots)
    pool = keeper.client.connection_pool
    assert isinstance(pool, redis.asyncio.BlockingConnectionPool)
    assert pool.max_connections == connection_cap.REDIS_POOL
    here = hub()
    await keeper.client.delete(connection_cap.key("burst"))
    taken = await asyncio.gather(
        *(
            keeper.take(here, "burst", f"c{n}", cap=connection_cap.REDIS_POOL * 5)
            for n in range(connection_cap.REDIS_POOL * 5)
        )
    )
    assert taken == [True] * (connection_cap.REDIS_POOL * 5)
    assert len(pool._in_use_connections) + len(pool._available_connections) <= connection_cap.REDIS_POOL
    for n in range(connection_cap.REDIS_POOL * 5):
        await keeper.give_back(here, f"c{n}")
    assert here.held_slots() == {}


# --- Message size, on the application's side of ASGI (every server) -------------------------------------


@pytest.mark.parametrize("kind", ["text", "bytes"])
async def test_a_message_over_the_size_limit_is_closed_with_1009_and_one_at_it_is_handled(
    realtime_settings: Any, kind: str
) -> None:
    realtime_settings.WEBSOCKET_MAX_MESSAGE_SIZE = 1024
    communicator = WebsocketCommunicator(application, "/ws/json")
    assert await communicator.connect() == (True, None)
    at_limit = "é" * 512  # 1,024 bytes in UTF-8, 512 characters: handled (not JSON: an error frame)
    await communicator.send_to(**{f"{kind}_data": at_limit if kind == "text" else at_limit.encode()})
    assert json.loads(await communicator.receive_from())["code"] == "invalid_json"
    over = at_limit + "x"  # 1,025 bytes
    await communicator.send_to(**{f"{kind}_data": over if kind == "text" else over.encode()})
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 1009, "reason": ""}
    await communicator.disconnect(code=1009)
