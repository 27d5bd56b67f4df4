"""
The database away at every point a token endpoint reads it: the handshake is
refused with 4503, a replay that cannot be read closes with 4503, a gap that cannot
be read holds its live event back until the database answers; never 1011, never a
crash, and reconnecting with `since` once it is back loses nothing.

(`new_comment` answers an outage with an `unavailable` error frame and stays
open: tests/comments/test_live_comments.py.)
"""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import pytest
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from comments.feeds import PostComments
from comments.models import Comment, Post
from notifications.feeds import UserNotifications
from notifications.frames import notification_frame
from notifications.models import Notification
from notifications.services import anotify_user
from project.asgi import application
from realtime.close_codes import CLOSE_UNAVAILABLE
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE = OperationalError("could not connect to server: Connection refused")


def database_down(target: Any, attribute: str) -> Any:
    return mock.patch.object(target, attribute, side_effect=OUTAGE)


async def notifications(token: str, query: str = "") -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/notifications?token={token}{query}")


async def expect_closed_after_accept(communicator: WebsocketCommunicator, code: int) -> None:
    assert await communicator.receive_output() == {"type": "websocket.close", "code": code, "reason": ""}


async def stored(user: Any, *texts: str) -> list[Notification]:
    return [await anotify_user(user, {"text": text}) for text in texts]


# --- Before accept ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws/notifications", "/ws/live-comments/{post}"])
async def test_a_handshake_while_the_user_lookup_fails_is_refused_with_4503_and_logged_without_the_token(
    path: str, post: Post, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = path.format(post=post.pk)
    with mock.patch("realtime.auth.middleware.active_user", side_effect=OUTAGE):
        communicator = WebsocketCommunicator(application, f"{url}?token={token}")
        assert await communicator.connect() == (False, CLOSE_UNAVAILABLE)
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "realtime.auth.middleware"] == [
        ("WARNING", f"Refused {url}: the database is unavailable (OperationalError)")
    ]
    assert token not in caplog.text
    communicator = WebsocketCommunicator(application, f"{url}?token={token}")
    assert (await communicator.connect())[0] is True
    await communicator.disconnect()


async def test_notifications_refused_with_4503_when_the_feed_cannot_be_read(token: str) -> None:
    with database_down(UserNotifications, "high_water"):
        communicator = await notifications(token)
        assert await communicator.connect() == (False, CLOSE_UNAVAILABLE)
    communicator = await notifications(token)
    assert (await communicator.connect())[0] is True
    await communicator.disconnect()


async def test_live_comments_refused_with_4503_when_the_post_cannot_be_read(post: Post, token: str) -> None:
    with database_down(PostComments, "high_water"):
        communicator = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}")
        assert await communicator.connect() == (False, CLOSE_UNAVAILABLE)


# --- After accept -----------------------------------------------------------------


async def test_a_replay_that_cannot_read_closes_with_4503_and_a_later_replay_sends_everything(
    user: Any, token: str
) -> None:
    first, second = await stored(user, "one", "two")
    with database_down(UserNotifications, "after_id"):
        communicator = await notifications(token, "&since=0")
        assert (await communicator.connect())[0] is True
        await expect_closed_after_accept(communicator, CLOSE_UNAVAILABLE)
    communicator = await notifications(token, "&since=0")
    assert (await communicator.connect())[0] is True
    assert [await communicator.receive_json_from() for _ in range(2)] == [
        notification_frame(first),
        notification_frame(second),
    ]
    await communicator.disconnect()


async def test_a_gap_that_cannot_be_read_holds_the_event_back_and_keeps_the_connection(
    user: Any, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    communicator = await notifications(token)
    assert (await communicator.connect())[0] is True
    with mock.patch("realtime.feeds.publish.publish"):  # this one's live event is lost: a gap
        unheard = (await stored(user, "unheard"))[0]
    with database_down(UserNotifications, "seq_range"):
        heard = (await stored(user, "heard"))[0]  # its live event shows the gap, which cannot be read
        assert await communicator.receive_nothing(timeout=0.2)  # not sent out of order, not closed
    assert [r.getMessage() for r in caplog.records if r.name == "realtime.feeds.sequenced"] == [
        f"Could not read the gap up to seq 1 in NotificationFeeds {user.pk}: "
        "the database is unavailable (OperationalError)"
    ]
    later = (await stored(user, "later"))[0]  # the database is back: the next event fills the gap
    assert [await communicator.receive_json_from() for _ in range(3)] == [
        notification_frame(unheard),
        notification_frame(heard),
        notification_frame(later),
    ]
    await communicator.disconnect()


async def test_an_outage_on_one_connection_leaves_the_others_serving(post: Post, token: str) -> None:
    healthy = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}")
    assert (await healthy.connect())[0] is True
    await receive_presence_state(healthy, f"comments:{post.pk}")
    with database_down(PostComments, "after_id"):
        failing = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}&since=0")
        assert (await failing.connect())[0] is True
        await receive_presence_state(failing, f"comments:{post.pk}")  # presence needs no database
        await expect_closed_after_accept(failing, CLOSE_UNAVAILABLE)
    await healthy.send_json_to({"type": "new_comment", "body": "still here", "client_id": "c1"})
    created = await healthy.receive_json_from()
    comment = await Comment.objects.aget(post=post)
    assert created == {"type": "comment_created", "comment_id": comment.pk, "client_id": "c1"}
    broadcast = await healthy.receive_json_from()
    assert (broadcast["type"], broadcast["comment"]["id"], broadcast["comment"]["body"]) == (
        "comment",
        comment.pk,
        "still here",
    )
    await healthy.disconnect()
