"""
The docs' smaller blocks, run as they are written: the push API
(docs/how-to/notifications.md), the permission hook (docs/how-to/permissions.md),
a view reading presence and a consumer of the port
(docs/explanation/port.md). Each block becomes a module of its own, as a host's
file would be.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
import yaml
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import timezone

from comments.models import Post
from notifications.models import Notification
from project.asgi import application
from realtime.auth.tokens import issue_token
from tests.support.docs import block
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)


def page_module(name: str, page: str, first_line: str) -> ModuleType:
    module = ModuleType(name)
    exec(block(page, first_line), module.__dict__)
    return module


async def connect(path: str, user: User) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"{path}?token={issue_token(user)}")
    assert await communicator.connect() == (True, None)
    return communicator


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice")


# The push API


async def test_the_notification_example_stores_and_pushes_from_sync_and_async_code(alice: User) -> None:
    notices = page_module("exports.notices", "docs/how-to/notifications.md", "# exports/notices.py (an example)")
    ws = await connect("/ws/notifications", alice)
    await sync_to_async(notices.export_finished)(alice, 42)
    finished = await ws.receive_json_from()
    await notices.export_failed(alice)
    failed = await ws.receive_json_from()
    await ws.disconnect()
    assert (finished["type"], finished["payload"]) == (
        "notification",
        {"text": "Your export is ready", "url": "/exports/42"},
    )
    assert (failed["type"], failed["payload"]) == ("notification", {"text": "Your export failed"})
    stored = [notice.payload async for notice in Notification.objects.filter(recipient=alice).order_by("id")]
    assert stored == [finished["payload"], failed["payload"]]


# The permission hook

PERMISSIONS = "docs/how-to/permissions.md"


@pytest.fixture
def permission_hook(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's `mysite/permissions.py` importable as such, and its settings block appended to REALTIME."""
    package = ModuleType("mysite")
    package.__path__ = []
    monkeypatch.setitem(sys.modules, "mysite", package)
    monkeypatch.setitem(
        sys.modules,
        "mysite.permissions",
        page_module("mysite.permissions", PERMISSIONS, "# mysite/permissions.py (new)"),
    )
    namespace: dict[str, Any] = {"REALTIME": dict(settings.REALTIME)}
    exec(block(PERMISSIONS, "# mysite/settings.py (append, for the permission hook)"), namespace)
    assert namespace["REALTIME"]["TOPIC_PERMISSION"] == "mysite.permissions.can_follow"
    settings.REALTIME = namespace["REALTIME"]


@pytest.fixture
def posts() -> tuple[Post, Post]:
    old = Post.objects.create(title="Last winter's release")
    Post.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    return old, Post.objects.create(title="This week's release")


@pytest.mark.usefixtures("permission_hook")
async def test_the_permission_example_keeps_old_posts_to_staff(posts: tuple[Post, Post], alice: User) -> None:
    old, new = posts
    staff = await sync_to_async(User.objects.create_user)("staff", is_staff=True)
    refused = WebsocketCommunicator(application, f"/ws/live-comments/{old.pk}?token={issue_token(alice)}")
    assert await refused.connect() == (False, 4403)
    for user, post in ((staff, old), (alice, new)):
        ws = await connect(f"/ws/live-comments/{post.pk}", user)
        await receive_presence_state(ws, f"comments:{post.pk}", user)
        await ws.disconnect()
    ws = await connect("/ws/", alice)
    await ws.send_json_to({"type": "subscribe", "topic": f"comments:{old.pk}"})
    assert await ws.receive_json_from() == {
        "type": "error",
        "code": "forbidden",
        "message": f"This user may not follow comments:{old.pk}.",
        "topic": f"comments:{old.pk}",
    }
    await ws.disconnect()


# Presence, from a view


async def test_the_presence_view_answers_who_watches_a_post(alice: User) -> None:
    views = page_module("mysite.views", "docs/reference/endpoints.md", "# mysite/views.py (presence in a view)")
    post = await Post.objects.acreate(title="Watched")
    ws = await connect(f"/ws/live-comments/{post.pk}", alice)
    await receive_presence_state(ws, f"comments:{post.pk}", alice)
    response = await sync_to_async(views.watching)(RequestFactory().get("/"), post.pk)
    await ws.disconnect()
    assert json.loads(response.content) == {"count": 1, "users": [{"id": alice.pk, "username": "alice"}]}


# The port: a consumer of your own


async def test_the_shout_consumer_answers_its_json_upper_cased() -> None:
    consumers = page_module(
        "mysite.consumers", "docs/explanation/port.md", "# mysite/consumers.py (a consumer of your own)"
    )
    ws = WebsocketCommunicator(consumers.Shout.as_asgi(), "/ws/shout")
    assert await ws.connect() == (True, None)
    await ws.send_json_to({"say": "ça va"})
    assert await ws.receive_from() == "{\"loud\":\"{'SAY': 'ÇA VA'}\"}"
    await ws.disconnect()


# Observing: the operations endpoints at the root, and Prometheus' configuration

OBSERVE = "docs/how-to/observe.md"


def test_the_operations_block_serves_healthz_at_the_root_of_a_host_site(
    client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.urls import include, path

    urls = ModuleType("mysite.urls")
    urls.__dict__.update(path=path, include=include, urlpatterns=[path("realtime/", include("realtime.urls"))])
    exec(block(OBSERVE, "# mysite/urls.py (append, for the operations endpoints)"), urls.__dict__)
    monkeypatch.setitem(sys.modules, "mysite.urls", urls)
    settings.ROOT_URLCONF = "mysite.urls"
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert client.get("/realtime/healthz").status_code == 200


def test_the_prometheus_block_scrapes_each_process_with_the_metrics_token() -> None:
    config = yaml.safe_load(block(OBSERVE, "# prometheus.yml (one target per server process)"))
    (job,) = config["scrape_configs"]
    (targets,) = job["static_configs"]
    assert job["job_name"] == "realtime"
    assert targets["targets"] == ["app1.internal:8001", "app1.internal:8002"]
    assert job["authorization"] == {"credentials_file": "/etc/prometheus/realtime-metrics-token"}
    assert "metrics_path" not in job  # Prometheus' default, /metrics, is the processes' path
