"""A user deactivated, deleted, or with a new password while connected: the connections close with 4401."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.utils import timezone

from comments.models import Post
from project.asgi import application
from realtime.auth.models import TokenRevocation
from realtime.auth.revocation import publish_revocation, revoke_tokens
from realtime.auth.tokens import issue_token, password_fingerprint
from tests.support.presence import receive_presence_state
from tests.support.tokens import in_seconds, signed

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
    await receive_presence_state(communicators[1], f"comments:{post.pk}", user)
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


# --- Password changes end the tokens issued before them -------------------------------------


async def test_changing_the_password_closes_the_connections_of_older_tokens_at_once(user: Any, post: Post) -> None:
    old = await open_both(user, post)
    user.set_password("a new password")
    await user.asave()
    assert [await c.receive_output(timeout=2) for c in old] == [CLOSED_4401, CLOSED_4401]
    for communicator in old:
        await communicator.disconnect()


async def test_a_connection_opened_with_a_token_of_the_new_password_stays(user: Any, post: Post) -> None:
    old = await open_both(user, post)
    user.set_password("a new password")
    await sync_to_async(user.save)()
    assert [await c.receive_output(timeout=2) for c in old] == [CLOSED_4401, CLOSED_4401]
    fresh = await open_both(user, post)  # the page got a token of the new password
    await sync_to_async(publish_revocation)(user.pk, password_fingerprint(user))  # the same news, arriving late
    for communicator in fresh:
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from() == {"type": "pong"}
    for communicator in old + fresh:
        await communicator.disconnect()


async def test_a_token_issued_before_a_password_change_is_refused_at_the_handshake(user: Any) -> None:
    token = issue_token(user)
    user.set_password("a new password")
    await user.asave()
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (False, 1008)


async def test_a_token_issued_before_a_password_change_is_refused_by_refresh(user: Any, post: Post) -> None:
    before = issue_token(user)
    user.set_password("a new password")
    await user.asave()
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={issue_token(user)}")
    assert await communicator.connect() == (True, None)
    await communicator.send_json_to({"type": "refresh", "token": before})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid_token",
        "message": "The token was not accepted: the token was issued before the user's password changed.",
    }
    await communicator.disconnect()


async def test_a_password_change_the_orm_does_not_announce_is_found_by_the_check(
    user: Any, post: Post, realtime_settings: Any
) -> None:
    realtime_settings.REVOCATION_CHECK_INTERVAL = 0.05
    mine = await open_both(user, post)
    await get_user_model().objects.filter(pk=user.pk).aupdate(password="pbkdf2_sha256$1$salt$changed")  # no signal
    assert [await c.receive_output(timeout=2) for c in mine] == [CLOSED_4401, CLOSED_4401]
    for communicator in mine:
        await communicator.disconnect()


# --- Tokens minted elsewhere (no `pwh`): ended by the revocation a password change records ---------


def minted_elsewhere(user: Any, **claims: Any) -> str:
    """A token another service signed with the secret: `iat` now unless given, and no `pwh`."""
    return signed(sub=str(user.pk), exp=in_seconds(60), **{"iat": int(time.time()), **claims})


async def change_password(user: Any) -> None:
    user.set_password("a new password")
    await user.asave()


async def test_a_token_minted_elsewhere_before_a_password_change_is_refused_at_the_handshake(user: Any) -> None:
    token = minted_elsewhere(user, iat=int(time.time()) - 5)
    await change_password(user)
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (False, 1008)


async def test_a_token_minted_elsewhere_without_iat_is_refused_after_a_password_change(user: Any) -> None:
    token = signed(sub=str(user.pk), exp=in_seconds(60))
    await change_password(user)
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (False, 1008)


async def test_a_token_minted_elsewhere_without_iat_works_for_a_user_whose_password_never_changed(user: Any) -> None:
    communicator = WebsocketCommunicator(
        application, f"/ws/notifications?token={signed(sub=str(user.pk), exp=in_seconds(60))}"
    )
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


async def test_a_token_minted_elsewhere_after_a_password_change_is_accepted(user: Any) -> None:
    await change_password(user)
    # The change was two seconds ago: a token minted now is newer (`iat` counts whole seconds).
    await TokenRevocation.objects.filter(user_id=user.pk).aupdate(revoked_at=timezone.now() - timedelta(seconds=2))
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={minted_elsewhere(user)}")
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


async def test_a_token_minted_elsewhere_before_a_password_change_is_refused_by_refresh(user: Any) -> None:
    before = minted_elsewhere(user, iat=int(time.time()) - 5)
    await change_password(user)
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={issue_token(user)}")
    assert await communicator.connect() == (True, None)
    await communicator.send_json_to({"type": "refresh", "token": before})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "invalid_token",
        "message": "The token was not accepted: the token was issued before the user's password changed.",
    }
    await communicator.disconnect()


async def test_a_password_change_closes_the_connections_of_tokens_minted_elsewhere_at_once(
    user: Any, post: Post
) -> None:
    token = minted_elsewhere(user)
    communicators = [
        WebsocketCommunicator(application, f"/ws/notifications?token={token}"),
        WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}"),
    ]
    for communicator in communicators:
        assert await communicator.connect() == (True, None)
    await receive_presence_state(communicators[1], f"comments:{post.pk}", user)
    await change_password(user)
    assert [await c.receive_output(timeout=2) for c in communicators] == [CLOSED_4401, CLOSED_4401]
    for communicator in communicators:
        await communicator.disconnect()


async def test_a_password_change_the_orm_does_not_announce_ends_tokens_minted_elsewhere_once_the_check_finds_it(
    user: Any, realtime_settings: Any
) -> None:
    realtime_settings.REVOCATION_CHECK_INTERVAL = 0.05
    token = minted_elsewhere(user, iat=int(time.time()) - 5)
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    await get_user_model().objects.filter(pk=user.pk).aupdate(password="pbkdf2_sha256$1$salt$changed")  # no signal
    assert await communicator.receive_output(timeout=2) == CLOSED_4401
    await communicator.disconnect()
    again = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await again.connect() == (False, 1008)


async def test_revoke_tokens_signs_a_user_out_everywhere(user: Any) -> None:
    ours, theirs = issue_token(user), minted_elsewhere(user, iat=int(time.time()) - 5)
    open_now = WebsocketCommunicator(application, f"/ws/notifications?token={ours}")
    assert await open_now.connect() == (True, None)
    await sync_to_async(revoke_tokens)(user.pk)
    assert await open_now.receive_output(timeout=2) == CLOSED_4401
    await open_now.disconnect()
    later = WebsocketCommunicator(application, f"/ws/notifications?token={theirs}")
    assert await later.connect() == (False, 1008)


async def test_creating_a_user_records_no_revocation(django_user_model: Any) -> None:
    created = await sync_to_async(django_user_model.objects.create_user)(username="carol", password="a password")
    assert await TokenRevocation.objects.filter(user_id=created.pk).aexists() is False
