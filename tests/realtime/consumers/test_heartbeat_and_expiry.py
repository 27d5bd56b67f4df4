"""The server heartbeat (4408) and the token deadline (4401) of token endpoints, with short intervals."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from notifications.consumers import NotificationsConsumer
from notifications.services import anotify_user
from project.asgi import application
from realtime.auth.tokens import decode_token, issue_token

pytestmark = pytest.mark.django_db(transaction=True)

PING = {"type": "websocket.send", "text": '{"type":"ping"}'}


@pytest.fixture
def fast_heartbeat(realtime_settings: Any) -> None:
    realtime_settings.HEARTBEAT_INTERVAL = 0.2
    realtime_settings.HEARTBEAT_TIMEOUT = 0.2


async def connect(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    return communicator


def expiring_token(user: Any, seconds: float) -> str:
    return issue_token(user, ttl=timedelta(seconds=seconds))


# --- Heartbeat --------------------------------------------------------------------


@pytest.mark.usefixtures("fast_heartbeat")
async def test_a_silent_client_gets_a_ping_then_close_4408(token: str) -> None:
    communicator = await connect(token)
    assert await communicator.receive_output() == PING
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4408, "reason": ""}
    await communicator.disconnect()


@pytest.mark.usefixtures("fast_heartbeat")
async def test_a_client_answering_pings_stays_connected(token: str) -> None:
    communicator = await connect(token)
    for _ in range(4):
        assert await communicator.receive_output() == PING
        await communicator.send_json_to({"type": "pong"})
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.usefixtures("fast_heartbeat")
async def test_any_message_answers_a_ping(token: str) -> None:
    communicator = await connect(token)
    for _ in range(3):
        assert await communicator.receive_output() == PING
        await communicator.send_to(text_data="not even json")
        assert (await communicator.receive_json_from())["code"] == "invalid_json"
    await communicator.disconnect()


async def test_a_pong_waiting_behind_a_slow_handler_is_not_late(
    user: Any, token: str, realtime_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    t=0: a slow push takes the connection for 1 s. t=0.6: the heartbeat's ping waits
    for it. t=0.8: the client's ping arrives and waits behind the heartbeat's. t=1: the
    heartbeat pings, then the client's ping takes 1 s. The client's pong, sent at once,
    is only read at t=2, after the 0.3 s deadline: it arrived in time all the same.
    """
    realtime_settings.HEARTBEAT_INTERVAL = 0.6
    realtime_settings.HEARTBEAT_TIMEOUT = 0.3
    deliver, answer_ping = NotificationsConsumer.notification_created, NotificationsConsumer.on_ping

    async def slow_delivery(self: NotificationsConsumer, event: Any) -> None:
        await asyncio.sleep(1)
        await deliver(self, event)

    async def slow_ping(self: NotificationsConsumer, message: dict[str, Any]) -> None:
        await asyncio.sleep(1)
        await answer_ping(self, message)

    monkeypatch.setattr(NotificationsConsumer, "notification_created", slow_delivery)
    monkeypatch.setattr(NotificationsConsumer, "on_ping", slow_ping)
    communicator = await connect(token)
    await anotify_user(user, {"text": "slow"})
    await asyncio.sleep(0.8)
    await communicator.send_json_to({"type": "ping"})
    notification, ping = [await communicator.receive_output(timeout=3) for _ in range(2)]
    assert (notification["text"][:23], ping) == ('{"type":"notification",', PING)
    await communicator.send_json_to({"type": "pong"})
    assert [await communicator.receive_output(timeout=3) for _ in range(2)] == [
        {"type": "websocket.send", "text": '{"type":"pong"}'},
        PING,
    ]
    await communicator.disconnect()


async def test_pings_come_every_interval(token: str, realtime_settings: Any) -> None:
    realtime_settings.HEARTBEAT_INTERVAL = 0.3
    realtime_settings.HEARTBEAT_TIMEOUT = 0.1
    communicator = await connect(token)
    assert await communicator.receive_nothing(timeout=0.2)
    assert await communicator.receive_output(timeout=0.5) == PING
    await communicator.send_json_to({"type": "pong"})
    assert await communicator.receive_nothing(timeout=0.15)
    assert await communicator.receive_output(timeout=0.5) == PING
    await communicator.disconnect()


@pytest.mark.usefixtures("fast_heartbeat", "in_memory_layer")
async def test_timers_and_tasks_end_with_the_connection(token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    consumers: list[NotificationsConsumer] = []
    original_connect = NotificationsConsumer.connect

    async def capturing_connect(self: NotificationsConsumer) -> None:
        consumers.append(self)
        await original_connect(self)

    monkeypatch.setattr(NotificationsConsumer, "connect", capturing_connect)
    tasks_before = asyncio.all_tasks()
    communicator = await connect(token)
    assert await communicator.receive_output() == PING
    await communicator.disconnect()
    await asyncio.sleep(0)
    (consumer,) = consumers
    assert consumer.heartbeat is not None
    assert consumer.deadline is not None
    assert (consumer.heartbeat._timer, consumer.deadline._timer, consumer._background) == (None, None, set())
    assert asyncio.all_tasks() - tasks_before == set()


# --- Token deadline -------------------------------------------------------------


async def test_the_connection_closes_with_4401_when_its_token_expires(user: Any) -> None:
    communicator = await connect(expiring_token(user, 2))
    assert await communicator.receive_output(timeout=4) == {"type": "websocket.close", "code": 4401, "reason": ""}
    await communicator.disconnect()


async def test_a_refresh_moves_the_deadline(user: Any) -> None:
    communicator = await connect(expiring_token(user, 2))
    fresh = expiring_token(user, 60)
    await communicator.send_json_to({"type": "refresh", "token": fresh})
    refreshed = await communicator.receive_json_from()
    assert refreshed["type"] == "refreshed"
    assert await communicator.receive_nothing(timeout=2.5)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
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
    user: Any, refresh: dict[str, Any], message: str
) -> None:
    communicator = await connect(expiring_token(user, 2))
    await communicator.send_json_to(refresh)
    assert await communicator.receive_json_from() == {"type": "error", "code": "invalid_token", "message": message}
    assert await communicator.receive_output(timeout=4) == {"type": "websocket.close", "code": 4401, "reason": ""}
    await communicator.disconnect()


async def test_a_refresh_with_an_expired_token_changes_nothing(user: Any) -> None:
    communicator = await connect(expiring_token(user, 2))
    await communicator.send_json_to({"type": "refresh", "token": expiring_token(user, -10)})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid_token",
        "message": "The token was not accepted: the token has expired.",
    }
    assert await communicator.receive_output(timeout=4) == {"type": "websocket.close", "code": 4401, "reason": ""}
    await communicator.disconnect()


async def test_a_refresh_with_another_users_token_changes_nothing(user: Any, other_user: Any) -> None:
    communicator = await connect(expiring_token(user, 2))
    await communicator.send_json_to({"type": "refresh", "token": issue_token(other_user)})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid_token",
        "message": "The token names another user.",
    }
    assert await communicator.receive_output(timeout=4) == {"type": "websocket.close", "code": 4401, "reason": ""}
    await communicator.disconnect()
