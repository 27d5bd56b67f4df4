"""`/ws/notifications`: ping/pong, error frames, pushes to the right user only, replay with no gap and no duplicate."""

from __future__ import annotations

import asyncio
import io
from typing import Any
from unittest import mock

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.db import connections

from notifications.consumers import NotificationsConsumer
from notifications.feeds import UserNotifications
from notifications.models import Notification
from notifications.selectors import NOTIFICATION_FEEDS
from notifications.services import anotify_user, notification_publication, notify_user
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.feeds import checks
from realtime.feeds import sequenced as feed
from realtime.hub import hub

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(token: str, query: str = "") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}{query}")
    assert await communicator.connect() == (True, None)
    return communicator


async def texts(communicator: WebsocketCommunicator, count: int) -> list[str]:
    frames = [await communicator.receive_json_from() for _ in range(count)]
    assert {frame["type"] for frame in frames} == {"notification"}
    return [frame["payload"]["text"] for frame in frames]


def replay_complete(last_id: int, *, truncated: bool = False) -> dict[str, Any]:
    return {"type": "replay_complete", "last_id": last_id, "truncated": truncated}


async def notify_texts(user: Any, *words: str) -> list[Notification]:
    return [await anotify_user(user, {"text": word}) for word in words]


async def notify_unheard(user: Any, text: str) -> Notification:
    """Store a notification whose publish this process never hears (lost, or made by another process)."""
    with mock.patch("realtime.feeds.publish.publish"):
        return await anotify_user(user, {"text": text})


# --- Messages ---------------------------------------------------------------------


async def test_ping_is_answered_with_pong(token: str) -> None:
    communicator = await connect(token)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_output() == {"type": "websocket.send", "text": '{"type":"pong"}'}
    await communicator.disconnect()


async def test_pong_is_not_answered(token: str) -> None:
    communicator = await connect(token)
    await communicator.send_json_to({"type": "pong"})
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_binary_json_ping_is_answered(token: str) -> None:
    communicator = await connect(token)
    await communicator.send_to(bytes_data=b'{"type": "ping"}')
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("sent", "error"),
    [
        ("[1, 2]", ("invalid_message", 'A message must be a JSON object with a string "type".')),
        ('{"kind": "ping"}', ("invalid_message", 'A message must be a JSON object with a string "type".')),
        ('{"type": 7}', ("invalid_message", 'A message must be a JSON object with a string "type".')),
        (
            '{"type": "subscribe"}',
            ("unknown_type", "Unknown message type 'subscribe'; this endpoint accepts: ping, pong, refresh."),
        ),
        (
            '{"type": "' + "x" * 100 + '"}',
            ("unknown_type", f"Unknown message type '{'x' * 40}…'; this endpoint accepts: ping, pong, refresh."),
        ),
        (
            "{oops",
            (
                "invalid_json",
                "The frame is not valid JSON: Expecting property name enclosed in double quotes: "
                "line 1 column 2 (char 1).",
            ),
        ),
    ],
    ids=["array", "no-type", "type-not-string", "unknown-type", "long-unknown-type", "invalid-json"],
)
async def test_unusable_messages_get_an_error_frame_and_the_connection_stays(
    token: str, sent: str, error: tuple[str, str]
) -> None:
    communicator = await connect(token)
    await communicator.send_to(text_data=sent)
    assert await communicator.receive_json_from() == {"type": "error", "code": error[0], "message": error[1]}
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


# --- Pushes -----------------------------------------------------------------------


async def test_a_notification_is_stored_then_pushed_with_its_exact_frame(user: Any, token: str) -> None:
    communicator = await connect(token)
    notification = await anotify_user(user, {"text": "héllo", "level": 2})
    stored = await Notification.objects.aget(pk=notification.pk)
    assert (stored.recipient_id, stored.payload, stored.seq) == (user.pk, {"text": "héllo", "level": 2}, 1)
    assert await communicator.receive_output() == {
        "type": "websocket.send",
        "text": f'{{"type":"notification","id":{stored.pk},"created_at":"{stored.created_at.isoformat()}",'
        '"payload":{"text":"héllo","level":2}}',
    }
    await communicator.disconnect()


async def test_a_notification_reaches_every_connection_of_its_user(user: Any, token: str) -> None:
    first, second = await connect(token), await connect(token)
    await notify_texts(user, "both")
    assert await texts(first, 1) == ["both"]
    assert await texts(second, 1) == ["both"]
    await first.disconnect()
    await second.disconnect()


async def test_a_notification_never_reaches_another_user(user: Any, other_user: Any, token: str) -> None:
    mine, theirs = await connect(token), await connect(issue_token(other_user))
    await notify_texts(other_user, "for bob")
    await notify_texts(user, "for alice")
    assert await texts(mine, 1) == ["for alice"]
    assert await texts(theirs, 1) == ["for bob"]
    assert await mine.receive_nothing()
    assert await theirs.receive_nothing()
    await mine.disconnect()
    await theirs.disconnect()


async def test_a_sequence_number_is_never_given_twice_even_after_a_delete(user: Any, token: str) -> None:
    communicator = await connect(token)
    (first,) = await notify_texts(user, "first")
    assert await texts(communicator, 1) == ["first"]
    await first.adelete()
    (second,) = await notify_texts(user, "second")
    assert second.seq == 2
    assert await texts(communicator, 1) == ["second"]
    await communicator.disconnect()


async def test_notifications_of_a_user_are_numbered_in_order(user: Any, other_user: Any) -> None:
    notifications = [
        *await notify_texts(user, "a", "b"),
        *await notify_texts(other_user, "c"),
        *await notify_texts(user, "d"),
    ]
    assert [(n.recipient_id, n.seq) for n in notifications] == [
        (user.pk, 1),
        (user.pk, 2),
        (other_user.pk, 1),
        (user.pk, 3),
    ]


def test_a_payload_that_is_not_a_dict_is_refused(user: Any) -> None:
    with pytest.raises(TypeError, match=r"^A notification payload must be a dict, not list\.$"):
        notify_user(user, ["text"])  # type: ignore[arg-type]  # the wrong type this test is about
    assert Notification.objects.count() == 0


# --- Replay ---------------------------------------------------------------------


async def test_since_replays_newer_notifications_in_order_then_live_ones(user: Any, token: str) -> None:
    first, _, third = await notify_texts(user, "one", "two", "three")
    communicator = await connect(token, f"&since={first.pk}")
    assert await texts(communicator, 2) == ["two", "three"]
    assert await communicator.receive_json_from() == replay_complete(third.pk)
    await notify_texts(user, "four")
    assert await texts(communicator, 1) == ["four"]
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_since_zero_replays_everything(user: Any, token: str) -> None:
    _, two = await notify_texts(user, "one", "two")
    communicator = await connect(token, "&since=0")
    assert await texts(communicator, 2) == ["one", "two"]
    assert await communicator.receive_json_from() == replay_complete(two.pk)
    await communicator.disconnect()


async def test_without_since_nothing_is_replayed(user: Any, token: str) -> None:
    await notify_texts(user, "old")
    communicator = await connect(token)
    assert await communicator.receive_nothing()
    await notify_texts(user, "new")
    assert await texts(communicator, 1) == ["new"]
    await communicator.disconnect()


async def test_replay_covers_only_the_users_own_notifications(user: Any, other_user: Any, token: str) -> None:
    await notify_texts(other_user, "not mine")
    (mine,) = await notify_texts(user, "mine")
    communicator = await connect(token, "&since=0")
    assert await texts(communicator, 1) == ["mine"]
    assert await communicator.receive_json_from() == replay_complete(mine.pk)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_replay_pages_through_many_notifications(user: Any, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "PAGE_SIZE", 2)
    *_, last = await notify_texts(user, *"abcde")
    communicator = await connect(token, "&since=0")
    assert await texts(communicator, 5) == list("abcde")
    assert await communicator.receive_json_from() == replay_complete(last.pk)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


@pytest.mark.parametrize(
    "since",
    ["abc", "-1", "1.5", "\uff11\uff12"],
    ids=["word", "negative", "decimal", "fullwidth-digits"],
)
async def test_an_invalid_since_gets_an_error_frame_and_live_delivery_goes_on(
    user: Any, token: str, since: str
) -> None:
    communicator = await connect(token, f"&since={since}")
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid_since",
        "message": "since must be a non-negative integer id; nothing was replayed.",
    }
    await notify_texts(user, "live")
    assert await texts(communicator, 1) == ["live"]
    await communicator.disconnect()


async def test_a_notification_created_while_replay_runs_arrives_once_after_the_replay(
    user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, two = await notify_texts(user, "one", "two")
    original = UserNotifications.after_id

    async def replay_racing_a_write(self: UserNotifications, since_id: int, upto_seq: int, limit: int) -> Any:
        entries = await original(self, since_id, upto_seq, limit)
        await notify_texts(user, "during replay")
        return entries

    monkeypatch.setattr(UserNotifications, "after_id", replay_racing_a_write)
    communicator = await connect(token, "&since=0")
    assert await texts(communicator, 2) == ["one", "two"]
    assert await communicator.receive_json_from() == replay_complete(two.pk)
    assert await texts(communicator, 1) == ["during replay"]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_notification_created_between_subscribing_and_reading_arrives_once(
    user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await notify_texts(user, "one")
    original = UserNotifications.high_water

    def write_before_reading(self: UserNotifications) -> int:
        notify_user(user, {"text": "just subscribed"})
        return original(self)

    monkeypatch.setattr(UserNotifications, "high_water", write_before_reading)
    communicator = await connect(token, "&since=0")
    assert await texts(communicator, 2) == ["one", "just subscribed"]
    newest = await Notification.objects.filter(recipient_id=user.pk).alatest("pk")
    assert await communicator.receive_json_from() == replay_complete(newest.pk)
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_notification_committed_just_after_accept_arrives_without_since(
    user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original_accept = NotificationsConsumer.accept

    async def accept_then_notify(self: NotificationsConsumer, *args: Any, **kwargs: Any) -> None:
        await original_accept(self, *args, **kwargs)
        await notify_texts(user, "right after accept")

    monkeypatch.setattr(NotificationsConsumer, "accept", accept_then_notify)
    communicator = await connect(token)
    assert await texts(communicator, 1) == ["right after accept"]
    await communicator.disconnect()


async def test_a_lost_live_event_is_filled_in_from_the_database(user: Any, token: str) -> None:
    communicator = await connect(token)
    await notify_unheard(user, "lost")
    await notify_texts(user, "next")
    assert await texts(communicator, 2) == ["lost", "next"]
    await communicator.disconnect()


async def test_a_duplicate_live_event_is_dropped(user: Any, token: str) -> None:
    communicator = await connect(token)
    (notification,) = await notify_texts(user, "once")
    assert await texts(communicator, 1) == ["once"]
    await get_channel_layer().group_send(*notification_publication(notification))
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


# --- What the channel layer lost or never carried ------------------------------------


@pytest.fixture
def fast_feed_checks(realtime_settings: Any) -> None:
    realtime_settings.FEED_CHECK_INTERVAL = 0.05


@pytest.mark.usefixtures("fast_feed_checks")
async def test_a_lost_last_notification_is_delivered_by_the_feed_check(user: Any, token: str) -> None:
    communicator = await connect(token)
    await notify_unheard(user, "lost, and nothing follows")
    assert await texts(communicator, 1) == ["lost, and nothing follows"]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@pytest.mark.usefixtures("fast_feed_checks", "in_memory_layer")
async def test_without_redis_a_notification_stored_by_another_process_arrives(user: Any, token: str) -> None:
    communicator = await connect(token)

    def notify_as_another_process() -> None:
        try:
            call_command("notify", "alice", "from the shell", stdout=io.StringIO())
        finally:
            connections.close_all()

    await asyncio.to_thread(notify_as_another_process)
    assert await texts(communicator, 1) == ["from the shell"]
    await communicator.disconnect()


async def test_feed_checks_run_only_while_a_feed_is_open(user: Any, token: str) -> None:
    first, second = await connect(token), await connect(token)
    feeds = checks.index(NOTIFICATION_FEEDS)
    assert [len(watchers) for watchers in hub().members(feeds).values()] == [2]
    await first.disconnect()
    assert [len(watchers) for watchers in hub().members(feeds).values()] == [1]
    await second.disconnect()
    assert hub().members(feeds) == {}
