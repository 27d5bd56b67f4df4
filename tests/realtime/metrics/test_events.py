"""
What the library counts besides connections: deliveries from commit to send,
replays and their truncations, error frames, rate-limit refusals, connections
that fell behind, and failures of the channel layer and the database.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import DatabaseError, OperationalError

from comments.models import Post
from comments.services import comment_create
from notifications.services import anotify_user
from project.asgi import application
from realtime.asgi import realtime_application
from realtime.consumers import WebSocketConsumer
from realtime.db import database_sync_to_async
from realtime.layers.health import report_lost
from realtime.outage import log_database_failure
from realtime.routing import websocket_route
from realtime.testing import ManualClock
from realtime.types import Message
from tests.realtime.consumers.test_pacing import PATIENCE, HeldFlow, behind
from tests.support.metrics import Samples
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)

COMMENTS = {"kind": "comments"}
create_comment = database_sync_to_async(comment_create)


async def test_a_live_comment_is_observed_from_commit_to_send_once_per_watcher(
    post: Post, token: str, user: Any
) -> None:
    watchers = [WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}") for _ in range(2)]
    for ws in watchers:
        await ws.connect()
        await receive_presence_state(ws, f"comments:{post.pk}")
    before = Samples()
    await create_comment(post_id=post.pk, author=user, body="hello", client_id=None)
    for ws in watchers:
        assert (await ws.receive_json_from())["type"] == "comment"

    assert before.added("realtime_delivery_seconds_count", COMMENTS) == 2
    assert before.added("realtime_delivery_seconds_bucket", {**COMMENTS, "le": "30.0"}) == 2
    assert before.added("realtime_delivery_seconds_count", {"kind": "notifications"}) == 0
    for ws in watchers:
        await ws.disconnect()


async def test_a_live_notification_is_observed_under_its_kind(user: Any, token: str) -> None:
    ws = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    await ws.connect()
    before = Samples()
    await anotify_user(user, {"text": "hi"})
    assert (await ws.receive_json_from())["type"] == "notification"

    assert before.added("realtime_delivery_seconds_count", {"kind": "notifications"}) == 1
    await ws.disconnect()


async def test_replayed_entries_are_counted_and_not_observed_as_deliveries(post: Post, token: str, user: Any) -> None:
    for n in range(3):
        await create_comment(post_id=post.pk, author=user, body=f"c{n}", client_id=None)
    before = Samples()
    ws = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}&since=0")
    await ws.connect()
    await receive_presence_state(ws, f"comments:{post.pk}")
    frames = [await ws.receive_json_from() for _ in range(4)]
    assert [frame["type"] for frame in frames] == ["comment", "comment", "comment", "replay_complete"]

    assert before.added("realtime_replayed_entries_total", COMMENTS) == 3
    assert before.added("realtime_replay_truncations_total", COMMENTS) == 0
    assert before.added("realtime_delivery_seconds_count", COMMENTS) == 0
    await ws.disconnect()


async def test_a_replay_past_the_limit_is_counted_as_truncated_with_no_entry_replayed(
    post: Post, token: str, user: Any, realtime_settings: Any
) -> None:
    realtime_settings.REPLAY_LIMIT = 2
    for n in range(3):
        await create_comment(post_id=post.pk, author=user, body=f"c{n}", client_id=None)
    before = Samples()
    ws = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={token}&since=0")
    await ws.connect()
    await receive_presence_state(ws, f"comments:{post.pk}")
    assert (await ws.receive_json_from())["truncated"] is True

    assert before.added("realtime_replay_truncations_total", COMMENTS) == 1
    assert before.added("realtime_replayed_entries_total", COMMENTS) == 0
    await ws.disconnect()


async def test_an_error_frame_is_counted_by_its_code() -> None:
    before = Samples()
    ws = WebsocketCommunicator(application, "/ws/json")
    await ws.connect()
    await ws.send_to(text_data="{not json")
    assert (await ws.receive_json_from())["code"] == "invalid_json"

    assert before.added("realtime_error_frames_total", {"code": "invalid_json"}) == 1
    assert before.added("realtime_error_frames_total", {"code": "unknown_type"}) == 0
    await ws.disconnect()


async def test_a_message_over_budget_is_counted_as_rate_limited(token: str, realtime_settings: Any) -> None:
    realtime_settings.RATE_LIMIT_MESSAGES_BURST = 1
    realtime_settings.RATE_LIMIT_MESSAGES_PER_SECOND = 0.001
    ws = WebsocketCommunicator(application, f"/ws/notifications?token={token}")
    await ws.connect()
    before = Samples()
    for _ in range(2):
        await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    assert (await ws.receive_json_from())["code"] == "rate_limited"

    assert before.added("realtime_rate_limited_total", {"budget": "message"}) == 1
    await ws.disconnect()


@pytest.mark.usefixtures("realtime_clock")
async def test_a_replay_left_unread_for_a_heartbeat_is_counted_as_fallen_behind_unread(
    post: Post, token: str, user: Any, realtime_clock: ManualClock
) -> None:
    for n in range(3):
        await create_comment(post_id=post.pk, author=user, body=f"c{n}", client_id=None)
    flow = HeldFlow()
    ws = WebsocketCommunicator(behind(flow), f"/ws/live-comments/{post.pk}?token={token}&since=0")
    await ws.connect()
    await receive_presence_state(ws, f"comments:{post.pk}")
    await asyncio.wait_for(flow.waited_on.wait(), 10)
    before = Samples()
    await realtime_clock.advance(PATIENCE)
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4410, "reason": ""}

    assert before.added("realtime_fell_behind_total", {"cause": "unread_replay"}) == 1
    assert before.added("realtime_fell_behind_total", {"cause": "backlog"}) == 0
    await ws.disconnect()


HOLD = "test.hold"
GROUP = "metrics-slow"


class Slow(WebSocketConsumer):
    """Joins GROUP; its first event holds its turn until `released` is set, so the rest pile up."""

    released: asyncio.Event

    async def connect(self) -> None:
        await self.join_group(GROUP)
        await self.accept()

    async def test_hold(self, event: Message) -> None:
        await Slow.released.wait()

    async def test_more(self, event: Message) -> None:
        pass


@pytest.mark.usefixtures("in_memory_layer")
async def test_live_events_piling_up_past_the_backlog_limit_are_counted_as_fallen_behind_backlog(
    realtime_settings: Any,
) -> None:
    realtime_settings.CHANNEL_BACKLOG_LIMIT = 2
    Slow.released = asyncio.Event()
    site = realtime_application(
        application, websocket_urlpatterns=[websocket_route(r"^test/slow$", Slow.as_asgi())], check_redis_at_start=False
    )
    ws = WebsocketCommunicator(site, "/test/slow")
    await ws.connect()
    layer = get_channel_layer()
    before = Samples()
    await layer.group_send(GROUP, {"type": HOLD})
    for _ in range(5):
        await layer.group_send(GROUP, {"type": "test.more"})
    Slow.released.set()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4410, "reason": ""}

    assert before.added("realtime_fell_behind_total", {"cause": "backlog"}) == 1
    assert (
        before.added("realtime_closes_total", {"endpoint": "/test/slow", "code": "4410", "by": "server"}) == 0
    )  # not yet ended
    await ws.disconnect(code=4410)
    assert before.added("realtime_closes_total", {"endpoint": "/test/slow", "code": "4410", "by": "server"}) == 1


async def test_every_channel_layer_failure_is_counted_though_logged_once() -> None:
    before = Samples()
    for _ in range(3):
        report_lost("publishing", ConnectionError("Redis is away"))
    assert before.added("realtime_channel_layer_failures_total") == 3


@pytest.mark.parametrize(
    ("error", "label"),
    [(OperationalError("connection refused"), "outage"), (DatabaseError("syntax error"), "other")],
    ids=["outage", "other"],
)
def test_a_database_failure_is_counted_as_an_outage_or_another_error(error: DatabaseError, label: str) -> None:
    before = Samples()
    log_database_failure(logging.getLogger("test"), error, "Reading %s", "something")
    assert before.added("realtime_database_failures_total", {"error": label}) == 1
