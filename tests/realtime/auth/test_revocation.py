"""A user deactivated or deleted while connected: every connection of theirs closes with 4401."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from comments.models import Post
from project.asgi import application
from realtime.auth.tokens import issue_token

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_4401 = {"type": "websocket.close", "code": 4401, "reason": ""}


async def open_both(user: Any, post: Post) -> list[WebsocketCommunicator]:
    token = issue_token(user)
    communicators = [
        WebsocketCommunicator(application, f"/ws/notifications?token={token}"),
        WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}"),
    ]
    for communicator in communicators:
        assert await communicator.connect() == (True, None)
    return communicators


async def test_deactivating_a_user_closes_their_connections_at_once(user: Any, other_user: Any, post: Post) -> None:
    mine = await open_both(user, post)
    theirs = await open_both(other_user, post)
    user.is_active = False
    await user.asave()
    assert [await c.receive_output(timeout=2) for c in mine] == [CLOSED_4401, CLOSED_4401]
    for communicator in theirs:
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from() == {"type": "pong"}
    for communicator in mine + theirs:
        await communicator.disconnect()


async def test_deleting_a_user_closes_their_connections_at_once(user: Any, post: Post) -> None:
    mine = await open_both(user, post)
    await get_user_model().objects.filter(pk=user.pk).adelete()
    assert [await c.receive_output(timeout=2) for c in mine] == [CLOSED_4401, CLOSED_4401]
    for communicator in mine:
        await communicator.disconnect()


async def test_a_deactivation_the_orm_does_not_announce_is_found_by_the_check(
    user: Any, post: Post, realtime_settings: Any
) -> None:
    realtime_settings.REVOCATION_CHECK_INTERVAL = 0.05
    mine = await open_both(user, post)
    await get_user_model().objects.filter(pk=user.pk).aupdate(is_active=False)  # no signal
    assert [await c.receive_output(timeout=2) for c in mine] == [CLOSED_4401, CLOSED_4401]
    for communicator in mine:
        await communicator.disconnect()


async def test_saving_an_active_user_changes_nothing(user: Any, post: Post) -> None:
    mine = await open_both(user, post)
    user.first_name = "Alice"
    await user.asave()
    for communicator in mine:
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
