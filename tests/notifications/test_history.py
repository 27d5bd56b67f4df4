"""`GET /realtime/history/notifications`: the user's own notifications over HTTP, for truncated replays."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifications.frames import notification_frame
from notifications.services import notify_user
from realtime.auth.tokens import issue_token

# The view reads through database_sync_to_async, which closes connections left in a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/realtime/history/notifications"


def test_a_page_is_the_socket_frames_of_the_users_own_notifications(client: Client, user: Any, other_user: Any) -> None:
    mine = [notify_user(user, {"text": text}) for text in ("one", "two", "three")]
    notify_user(other_user, {"text": "not mine"})
    response = client.get(f"{URL}?after={mine[0].pk}", headers={"Authorization": f"Bearer {issue_token(user)}"})
    assert response.status_code == 200
    assert response.json() == {"items": [dict(notification_frame(n)) for n in mine[1:]], "next_after": None}


def test_pages_end_with_next_after_null(client: Client, user: Any) -> None:
    made = [notify_user(user, {"n": number}) for number in range(3)]
    client.force_login(user)
    first = client.get(f"{URL}?limit=2").json()
    last = client.get(f"{URL}?limit=2&after={first['next_after']}").json()
    assert ([item["id"] for item in first["items"]], first["next_after"]) == ([made[0].pk, made[1].pk], made[1].pk)
    assert ([item["id"] for item in last["items"]], last["next_after"]) == ([made[2].pk], None)


def test_a_user_without_notifications_gets_an_empty_last_page(client: Client, user: Any) -> None:
    client.force_login(user)
    assert client.get(URL).json() == {"items": [], "next_after": None}


def test_without_a_session_or_a_token_it_is_401_json(client: Client) -> None:
    response = client.get(URL)
    assert (response.status_code, response.json()["error"]) == (401, "login_required")


def test_a_token_of_a_user_whose_password_changed_is_401(client: Client, user: Any) -> None:
    token = issue_token(user)
    user.set_password("a new one")
    user.save()
    response = client.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {
        "error": "login_required",
        "message": "The bearer token was refused: the token was issued before the user's password changed.",
    }
