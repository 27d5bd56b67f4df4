"""`manage.py issue_token` and `manage.py notify`."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications.models import Notification
from realtime.auth.tokens import decode_token

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_issue_token_prints_a_token_for_the_user_valid_for_an_hour(user: Any) -> None:
    claims = decode_token(run("issue_token", "alice").strip())
    assert claims.user_id == user.pk
    assert 3599 < (claims.expires_at - timezone.now()).total_seconds() <= 3601


def test_issue_token_honours_ttl(user: Any) -> None:
    claims = decode_token(run("issue_token", "alice", "--ttl", "120").strip())
    assert 119 < (claims.expires_at - timezone.now()).total_seconds() <= 121


def test_a_one_second_token_is_valid_for_at_least_a_second(user: Any) -> None:
    claims = decode_token(run("issue_token", "alice", "--ttl", "1").strip())
    assert 0.9 < (claims.expires_at - timezone.now()).total_seconds() <= 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody",), "No user named 'nobody'."),
        (("alice", "--ttl", "0"), "--ttl must be a positive number of seconds."),
    ],
    ids=["unknown-user", "zero-ttl"],
)
def test_issue_token_refuses_what_it_cannot_serve(user: Any, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError) as error:
        run("issue_token", *args)
    assert str(error.value) == message


def test_issue_token_refuses_an_inactive_user(user: Any) -> None:
    user.is_active = False
    user.save()
    with pytest.raises(CommandError) as error:
        run("issue_token", "alice")
    assert str(error.value) == "User 'alice' is inactive: the endpoints refuse its tokens."


def test_notify_stores_a_text_notification(user: Any) -> None:
    output = run("notify", "alice", "Deploy finished ✓")
    notification = Notification.objects.get()
    assert (notification.recipient, notification.payload, notification.seq) == (user, {"text": "Deploy finished ✓"}, 1)
    assert output == f"Notification {notification.pk} sent to alice.\n"


def test_notify_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError) as error:
        run("notify", "nobody", "hi")
    assert str(error.value) == "No user named 'nobody'."
    assert Notification.objects.count() == 0
