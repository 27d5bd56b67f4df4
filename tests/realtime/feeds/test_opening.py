"""
One trip to the database thread before a feed goes live (realtime/feeds/opening.py): the token's user and the
feed's high-water mark (and the permission hook's answer) at a per-feed handshake, the mark and the answer at a
`subscribe`; and an entry committed between the handshake's read and the group join still arrives, once.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import DatabaseSyncToAsync
from channels.testing import WebsocketCommunicator

from notifications.services import anotify_user
from project.asgi import application
from realtime.feeds.subscription import Subscription

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function run in the database thread, in order."""
    names: list[str] = []
    original = DatabaseSyncToAsync.thread_handler

    def counted(
        self: DatabaseSyncToAsync, loop: Any, exc_info: Any, task_context: Any, func: Any, *args: Any, **kwargs: Any
    ) -> Any:
        names.append(self.func.__name__)
        return original(self, loop, exc_info, task_context, func, *args, **kwargs)

    monkeypatch.setattr(DatabaseSyncToAsync, "thread_handler", counted)
    return names


@pytest.fixture
def fast_feed_checks(realtime_settings: Any) -> None:
    realtime_settings.FEED_CHECK_INTERVAL = 0.05


def only_existing_users(user: Any, topic: str) -> bool:
    """A permission hook that queries the database, as a site's does."""
    return bool(type(user).objects.filter(pk=user.pk, is_active=True).exists())


async def texts(communicator: WebsocketCommunicator, count: int) -> list[str]:
    frames = [await communicator.receive_json_from() for _ in range(count)]
    assert {frame["type"] for frame in frames} == {"notification"}
    return [frame["payload"]["text"] for frame in frames]


@pytest.mark.parametrize("hook", [False, True], ids=["no hook", "a permission hook"])
@pytest.mark.parametrize("path", ["/ws/notifications", "/ws/live-comments/{post}"])
async def test_a_per_feed_handshake_reads_the_user_and_the_feed_in_one_trip_to_the_database_thread(
    path: str, hook: bool, post: Any, token: str, trips: list[str], realtime_settings: Any
) -> None:
    if hook:
        realtime_settings.TOPIC_PERMISSION = f"{__name__}.only_existing_users"
    communicator = WebsocketCommunicator(application, f"{path.format(post=post.pk)}?token={token}")
    assert await communicator.connect() == (True, None)
    assert trips == ["read_handshake"]
    await communicator.disconnect()


async def test_a_subscribe_reads_the_mark_and_the_permission_in_one_trip(
    post: Any, token: str, trips: list[str], realtime_settings: Any
) -> None:
    realtime_settings.TOPIC_PERMISSION = f"{__name__}.only_existing_users"
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
    assert await communicator.connect() == (True, None)
    del trips[:]
    await communicator.send_json_to({"type": "subscribe", "topic": f"comments:{post.pk}"})
    assert await communicator.receive_json_from() == {"type": "subscribed", "topic": f"comments:{post.pk}"}
    assert trips == ["read_opening"]
    await communicator.disconnect()


@pytest.mark.usefixtures("fast_feed_checks")
async def test_a_notification_committed_between_the_handshake_read_and_the_group_join_arrives_once(
    user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Subscription.open

    async def commit_before_joining(self: Subscription, *args: Any) -> Any:
        await anotify_user(user, {"text": "between the read and the join"})  # its event reaches no one
        return await original(self, *args)

    monkeypatch.setattr(Subscription, "open", commit_before_joining)
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    assert await texts(communicator, 1) == ["between the read and the join"]  # the feed checks
    assert await communicator.receive_nothing(timeout=0.2)
    await anotify_user(user, {"text": "next"})
    assert await texts(communicator, 1) == ["next"]
    await communicator.disconnect()


async def test_an_entry_committed_between_the_read_and_the_join_is_filled_in_before_the_next_one(
    user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Subscription.open

    async def commit_before_joining(self: Subscription, *args: Any) -> Any:
        await anotify_user(user, {"text": "between"})
        return await original(self, *args)

    monkeypatch.setattr(Subscription, "open", commit_before_joining)
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    await anotify_user(user, {"text": "after"})  # its seq reveals the gap: "between" is read first
    assert await texts(communicator, 2) == ["between", "after"]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()
