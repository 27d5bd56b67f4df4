"""
The server heartbeat (4408) and the token deadline (4401) of token endpoints,
on a manual clock: the tests move time instead of waiting it out.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from notifications.consumers import NotificationsConsumer
from notifications.services import anotify_user
from notifications.topics import NotificationsTopic
from project.asgi import application
from realtime.auth.tokens import decode_token, issue_token
from realtime.feeds.subscription import Subscription
from realtime.testing import ManualClock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("realtime_clock")]

PING = {"type": "websocket.send", "text": '{"type":"ping"}'}
CLOSED_4401 = {"type": "websocket.close", "code": 4401, "reason": ""}
# The defaults (HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT).
INTERVAL, TIMEOUT = 30.0, 10.0


async def connect(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    return communicator


def expiring_token(user: Any, seconds: float) -> str:
    return issue_token(user, ttl=timedelta(seconds=seconds))


# --- Heartbeat --------------------------------------------------------------------


async def test_no_ping_comes_before_the_interval(token: str, realtime_clock: ManualClock) -> None:
    communicator = await connect(token)
    await realtime_clock.advance(INTERVAL - 0.1)
    assert await communicator.receive_nothing(timeout=0.05)
    await communicator.disconnect()


async def test_a_silent_client_gets_a_ping_then_close_4408(token: str, realtime_clock: ManualClock) -> None:
    communicator = await connect(token)
    await realtime_clock.advance(INTERVAL)
    assert await communicator.receive_output() == PING
    await realtime_clock.advance(TIMEOUT - 0.1)
    assert await communicator.receive_nothing(timeout=0.05)
    await realtime_clock.advance(0.1)
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4408, "reason": ""}
    await communicator.disconnect()


async def test_a_client_answering_pings_stays_connected(token: str, realtime_clock: ManualClock) -> None:
    communicator = await connect(token)
    for round_number in range(4):
        await realtime_clock.advance(INTERVAL if round_number == 0 else INTERVAL - TIMEOUT)
        assert await communicator.receive_output() == PING
        await communicator.send_json_to({"type": "pong"})
        await realtime_clock.advance(TIMEOUT)
        assert await communicator.receive_nothing(timeout=0.05)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_any_message_answers_a_ping(token: str, realtime_clock: ManualClock) -> None:
    communicator = await connect(token)
    for round_number in range(3):
        await realtime_clock.advance(INTERVAL if round_number == 0 else INTERVAL - TIMEOUT)
        assert await communicator.receive_output() == PING
        await communicator.send_to(text_data="not even json")
        assert (await communicator.receive_json_from())["code"] == "invalid_json"
        await realtime_clock.advance(TIMEOUT)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_pings_come_every_interval_from_the_last_one(
    token: str, realtime_clock: ManualClock, realtime_settings: Any
) -> None:
    realtime_settings.HEARTBEAT_INTERVAL, realtime_settings.HEARTBEAT_TIMEOUT = 0.3, 0.1
    communicator = await connect(token)
    await realtime_clock.advance(0.3)
    assert await communicator.receive_output() == PING
    await communicator.send_json_to({"type": "pong"})
    await realtime_clock.advance(0.25)
    assert await communicator.receive_nothing(timeout=0.05)
    await realtime_clock.advance(0.05)
    assert await communicator.receive_output() == PING
    await communicator.disconnect()


async def test_a_pong_waiting_behind_a_slow_handler_is_not_late(
    user: Any, token: str, realtime_clock: ManualClock, realtime_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    t=0: a push takes the connection until `push_done`. t=0.6: the heartbeat's ping
    waits for it. t=0.8: the client's ping arrives and waits behind the heartbeat's.
    t=1: the push ends, the heartbeat pings, and the client's ping takes the
    connection until `ping_done`. The client's pong, sent at once, is only read at
    t=2, after the 0.3 s deadline: it arrived in time all the same.
    """
    realtime_settings.HEARTBEAT_INTERVAL, realtime_settings.HEARTBEAT_TIMEOUT = 0.6, 0.3
    push_started, push_done, ping_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    deliver, answer_ping = NotificationsTopic.created, NotificationsConsumer.on_ping

    async def slow_delivery(self: NotificationsTopic, subscription: Subscription, event: Any) -> None:
        push_started.set()
        await push_done.wait()
        await deliver(self, subscription, event)

    async def slow_ping(self: NotificationsConsumer, message: dict[str, Any]) -> None:
        await ping_done.wait()
        await answer_ping(self, message)

    monkeypatch.setattr(NotificationsTopic, "created", slow_delivery)
    monkeypatch.setattr(NotificationsConsumer, "on_ping", slow_ping)
    communicator = await connect(token)
    await anotify_user(user, {"text": "slow"})
    await asyncio.wait_for(push_started.wait(), timeout=5)  # through Redis, the push takes a moment to arrive
    await realtime_clock.advance(0.8)
    await communicator.send_json_to({"type": "ping"})
    await realtime_clock.advance(0.2)
    push_done.set()
    notification, ping = [await communicator.receive_output() for _ in range(2)]
    assert (notification["text"][:23], ping) == ('{"type":"notification",', PING)
    await communicator.send_json_to({"type": "pong"})
    await realtime_clock.advance(1.0)
    ping_done.set()
    assert await communicator.receive_output() == {"type": "websocket.send", "text": '{"type":"pong"}'}
    await realtime_clock.advance(0.05)  # the heartbeat looks again, finds the pong, and pings (its next was due)
    assert await communicator.receive_output() == PING
    await communicator.disconnect()


@pytest.mark.usefixtures("in_memory_layer")  # channels-redis keeps a receiving task of its own
async def test_timers_and_tasks_end_with_the_connection(
    token: str, realtime_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumers: list[NotificationsConsumer] = []
    original_connect = NotificationsConsumer.connect

    async def capturing_connect(self: NotificationsConsumer) -> None:
        consumers.append(self)
        await original_connect(self)

    monkeypatch.setattr(NotificationsConsumer, "connect", capturing_connect)
    tasks_before = asyncio.all_tasks()
    communicator = await connect(token)
    await realtime_clock.advance(INTERVAL)
    assert await communicator.receive_output() == PING
    await communicator.disconnect()
    await asyncio.sleep(0)
    (consumer,) = consumers
    assert consumer.heartbeat is not None
    assert consumer.deadline is not None
    assert (consumer.heartbeat._timer, consumer.deadline._timer, consumer._background) == (None, None, None)
    assert realtime_clock.pending() == 0
    assert asyncio.all_tasks() - tasks_before == set()


# --- Token deadline -------------------------------------------------------------


@pytest.fixture
def slow_heartbeat(realtime_settings: Any) -> None:
    """No heartbeat ping within the minutes these tests move the clock."""
    realtime_settings.HEARTBEAT_INTERVAL = 3600


@pytest.mark.usefixtures("slow_heartbeat")
async def test_the_connection_closes_with_4401_when_its_token_expires(user: Any, realtime_clock: ManualClock) -> None:
    communicator = await connect(expiring_token(user, 2))
    await realtime_clock.advance(1)
    assert await communicator.receive_nothing(timeout=0.05)
    await realtime_clock.advance(2)
    assert await communicator.receive_output() == CLOSED_4401
    await communicator.disconnect()


@pytest.mark.usefixtures("slow_heartbeat")
async def test_a_refresh_moves_the_deadline(user: Any, realtime_clock: ManualClock) -> None:
    communicator = await connect(expiring_token(user, 2))
    await communicator.send_json_to({"type": "refresh", "token": expiring_token(user, 60)})
    assert (await communicator.receive_json_from())["type"] == "refreshed"
    await realtime_clock.advance(3)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await realtime_clock.advance(58)
    assert await communicator.receive_output() == CLOSED_4401
    await communicator.disconnect()


async def test_the_refreshed_frame_names_the_new_deadline(user: Any) -> None:
    communicator = await connect(expiring_token(user, 60))
    fresh = issue_token(user, ttl=timedelta(hours=2))
    await communicator.send_json_to({"type": "refresh", "token": fresh})
    assert await communicator.receive_json_from() == {
        "type": "refreshed",
        "expires_at": decode_token(fresh).expires_at.isoformat(),
    }
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("refresh", "message"),
    [
        ({"type": "refresh"}, 'A refresh needs "token": a JWT string.'),
        ({"type": "refresh", "token": 12}, 'A refresh needs "token": a JWT string.'),
        ({"type": "refresh", "token": "not-a-jwt"}, "The token was not accepted: the token is invalid (DecodeError)."),
        ({"type": "refresh", "token": "\ud800"}, "The token was not accepted: the token is invalid (DecodeError)."),
    ],
    ids=["missing", "not-a-string", "malformed", "lone-surrogate"],
)
async def test_a_bad_refresh_gets_an_error_and_the_old_deadline_holds(
    user: Any, refresh: dict[str, Any], message: str, realtime_clock: ManualClock
) -> None:
    communicator = await connect(expiring_token(user, 2))
    await communicator.send_json_to(refresh)
    assert await communicator.receive_json_from() == {"type": "error", "code": "invalid_token", "message": message}
    await realtime_clock.advance(3)
    assert await communicator.receive_output() == CLOSED_4401
    await communicator.disconnect()


async def test_a_refresh_with_an_expired_token_changes_nothing(user: Any, realtime_clock: ManualClock) -> None:
    communicator = await connect(expiring_token(user, 2))
    await communicator.send_json_to({"type": "refresh", "token": expiring_token(user, -10)})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid_token",
        "message": "The token was not accepted: the token has expired.",
    }
    await realtime_clock.advance(3)
    assert await communicator.receive_output() == CLOSED_4401
    await communicator.disconnect()


@pytest.mark.usefixtures("slow_heartbeat")
async def test_a_refresh_with_a_token_that_expired_meanwhile_changes_nothing(
    user: Any, realtime_clock: ManualClock
) -> None:
    communicator = await connect(expiring_token(user, 60))
    soon_over = expiring_token(user, 30)
    await realtime_clock.advance(31)
    await communicator.send_json_to({"type": "refresh", "token": soon_over})
    assert (await communicator.receive_json_from())["message"] == "The token was not accepted: the token has expired."
    await communicator.disconnect()


async def test_a_refresh_with_another_users_token_changes_nothing(
    user: Any, other_user: Any, realtime_clock: ManualClock
) -> None:
    communicator = await connect(expiring_token(user, 2))
    await communicator.send_json_to({"type": "refresh", "token": issue_token(other_user)})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid_token",
        "message": "The token names another user.",
    }
    await realtime_clock.advance(3)
    assert await communicator.receive_output() == CLOSED_4401
    await communicator.disconnect()
