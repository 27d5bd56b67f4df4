"""The site's one permission hook (REALTIME["TOPIC_PERMISSION"]) decides who may follow a post's comments."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.core import checks

from comments.models import Post
from project.asgi import application
from realtime.auth import permissions

pytestmark = pytest.mark.django_db(transaction=True)

ASKED: list[tuple[str, str]] = []


def only_alice(user: Any, topic: str) -> bool:
    """A permission hook for these tests: records what it was asked; lets alice in only."""
    ASKED.append((user.get_username(), topic))
    return bool(user.get_username() == "alice")


@pytest.fixture
def hook(realtime_settings: Any) -> None:
    ASKED.clear()
    realtime_settings.TOPIC_PERMISSION = f"{__name__}.only_alice"


@pytest.mark.usefixtures("hook")
async def test_a_user_the_hook_refuses_is_refused_before_accept_with_4403(post: Post, other_user: Any) -> None:
    from realtime.auth.tokens import issue_token

    communicator = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={issue_token(other_user)}")
    assert await communicator.connect() == (False, 4403)
    assert [("bob", f"comments:{post.pk}")] == ASKED


@pytest.mark.usefixtures("hook")
async def test_a_user_the_hook_allows_is_accepted(post: Post, token: str) -> None:
    communicator = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}")
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()
    assert [("alice", f"comments:{post.pk}")] == ASKED


@pytest.mark.usefixtures("hook")
async def test_a_post_that_does_not_exist_is_not_found_before_the_hook_is_asked(token: str) -> None:
    communicator = WebsocketCommunicator(application, f"/ws/live-comments/999999?token={token}")
    assert await communicator.connect() == (False, 4404)
    assert ASKED == []


def test_without_a_hook_every_authenticated_user_may_follow() -> None:
    assert permissions.permission_hook() is permissions.allow_every_user


def test_a_hook_that_cannot_be_imported_is_reported_by_check(realtime_settings: Any) -> None:
    realtime_settings.TOPIC_PERMISSION = "mysite.nowhere.can_follow"
    reported = [(m.id, m.msg) for m in checks.run_checks(tags=["realtime"])]
    assert reported == [
        ("realtime.E009", "REALTIME[\"TOPIC_PERMISSION\"] cannot be imported: No module named 'mysite'.")
    ]
