"""Notifications in the admin: list, search, the add page that sends one, and the action a site can add to its users."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from notifications.services import notify_user
from project.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(django_user_model: Any) -> Client:
    admin_user = django_user_model.objects.create_superuser(username="root", email="root@example.com", password=None)
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_changelist_shows_notifications_with_recipient_and_text(staff_client: Client, user: Any) -> None:
    notify_user(user, {"text": "first"})
    response = staff_client.get("/admin/notifications/notification/")
    assert response.status_code == 200
    rows = [(n.recipient.username, n.payload["text"]) for n in response.context["cl"].result_list]
    assert rows == [("alice", "first")]


def test_the_changelist_searches_by_username(staff_client: Client, user: Any, other_user: Any) -> None:
    notify_user(user, {"text": "for alice"})
    notify_user(other_user, {"text": "for bob"})
    response = staff_client.get("/admin/notifications/notification/", {"q": "bob"})
    assert [n.payload["text"] for n in response.context["cl"].result_list] == ["for bob"]


def test_the_changelist_loads_recipients_without_a_query_per_row(
    staff_client: Client, user: Any, django_user_model: Any
) -> None:
    def queries_for_changelist() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/admin/notifications/notification/").status_code == 200
        return len(queries)

    notify_user(user, {"text": "one"})
    queries_for_changelist()  # warm caches (content types, session)
    with_one = queries_for_changelist()
    for number in range(10):
        notify_user(django_user_model.objects.create_user(username=f"user{number}"), {"text": f"{number}"})
    assert queries_for_changelist() == with_one


def test_the_user_action_asks_for_the_text_first(staff_client: Client, user: Any) -> None:
    response = staff_client.post("/admin/auth/user/", {"action": "send_notification", "_selected_action": [user.pk]})
    assert response.status_code == 200
    assert response.templates[0].name == "admin/notifications/send_notification_action.html"
    assert Notification.objects.count() == 0


async def test_the_user_action_stores_and_pushes_to_each_selected_user(
    staff_client: Client, user: Any, other_user: Any, token: str
) -> None:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    response = await sync_to_async(staff_client.post)(
        "/admin/auth/user/",
        {"action": "send_notification", "_selected_action": [user.pk, other_user.pk], "apply": "1", "text": "Hi!"},
    )
    assert response.status_code == 302
    stored = sorted([(n.recipient_id, n.payload) async for n in Notification.objects.all()])
    assert stored == sorted([(user.pk, {"text": "Hi!"}), (other_user.pk, {"text": "Hi!"})])
    frame = await communicator.receive_json_from()
    assert (frame["type"], frame["payload"]) == ("notification", {"text": "Hi!"})
    await communicator.disconnect()


def test_the_add_page_asks_for_recipients_and_text(staff_client: Client, user: Any) -> None:
    response = staff_client.get("/admin/notifications/notification/add/")
    assert response.status_code == 200
    assert response.templates[0].name == "admin/notifications/send_notification.html"
    assert list(response.context["form"].fields) == ["text", "recipients"]


async def test_the_add_page_stores_and_pushes_to_each_recipient(
    staff_client: Client, user: Any, other_user: Any, token: str
) -> None:
    communicator = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    assert await communicator.connect() == (True, None)
    response = await sync_to_async(staff_client.post)(
        "/admin/notifications/notification/add/", {"recipients": [user.pk, other_user.pk], "text": "Hello"}
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/notifications/notification/")
    stored = sorted([(n.recipient_id, n.payload) async for n in Notification.objects.all()])
    assert stored == sorted([(user.pk, {"text": "Hello"}), (other_user.pk, {"text": "Hello"})])
    frame = await communicator.receive_json_from()
    assert (frame["type"], frame["payload"]) == ("notification", {"text": "Hello"})
    await communicator.disconnect()


def test_the_add_page_refuses_staff_without_the_add_permission(django_user_model: Any) -> None:
    clerk = django_user_model.objects.create_user(username="clerk", is_staff=True)
    client = Client()
    client.force_login(clerk)
    assert client.get("/admin/notifications/notification/add/").status_code == 403
