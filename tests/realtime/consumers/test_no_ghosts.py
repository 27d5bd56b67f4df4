"""
No ghosts (PROTOCOL.md, "Slow and hostile clients"): a connection whose socket
is gone without the server telling the application (no `websocket.disconnect`
ever comes) stops being counted (hub, presence, per-user slots, gauges) within
HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT. The communicator plays such a client:
after accept it never sends anything again, not even its disconnect.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from comments.models import Post
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.consumers.base import CLOSE_TIMEOUT
from realtime.hub import hub
from realtime.testing import ManualClock
from tests.support.metrics import Samples
from tests.support.presence import receive_presence_state

pytestmark = [pytest.mark.django_db(transaction=True)]

INTERVAL, TIMEOUT = 30.0, 10.0  # the defaults
COMMENTS_ENDPOINT = {"endpoint": "/ws/live-comments/<post_id>"}
PING = {"type": "websocket.send", "text": '{"type":"ping"}'}


def counted(user: Any) -> tuple[int, int]:
    """Open connections in the hub, and the user's per-user slots held."""
    here = hub()
    return len(here.connections), sum(1 for holder in here.held_slots().values() if holder == user.pk)


async def test_a_client_gone_without_a_word_is_forgotten_when_the_heartbeat_times_out(
    post: Post, user: Any, other_user: Any, realtime_clock: ManualClock, realtime_settings: Any
) -> None:
    realtime_settings.PRESENCE_INTERVAL = 1.0
    before = Samples()
    ghost = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={issue_token(user)}")
    assert await ghost.connect() == (True, None)
    await receive_presence_state(ghost, f"comments:{post.pk}", user)
    watcher = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={issue_token(other_user)}")
    assert await watcher.connect() == (True, None)
    await receive_presence_state(watcher, f"comments:{post.pk}", other_user)
    assert counted(user) == (2, 1)
    await realtime_clock.advance(1.0)
    assert (await ghost.receive_json_from())["joins"] == [{"id": other_user.pk, "username": "bob"}]

    await realtime_clock.advance(INTERVAL - 1.0)
    assert await ghost.receive_output() == PING
    assert await watcher.receive_output() == PING
    await watcher.send_json_to({"type": "pong"})
    await realtime_clock.advance(TIMEOUT)
    assert await ghost.receive_output() == {"type": "websocket.close", "code": 4408, "reason": ""}

    assert counted(user) == (1, 0)  # at once: no answer to the close is awaited
    await ghost.wait()  # its application ends (leaving its groups may wait on Redis)
    assert before.added("realtime_connections", COMMENTS_ENDPOINT) == 1
    assert before.added("realtime_closes_total", {**COMMENTS_ENDPOINT, "code": "4408", "by": "server"}) == 1
    await realtime_clock.advance(1.0)
    left = await watcher.receive_json_from()
    assert (left["type"], left["count"], left["leaves"]) == (
        "presence_diff",
        1,
        [{"id": user.pk, "username": user.get_username()}],
    )
    await watcher.disconnect()


async def test_a_client_that_never_answers_a_close_is_forgotten_after_the_close_timeout(
    user: Any, realtime_clock: ManualClock
) -> None:
    ghost = WebsocketCommunicator(application, f"/ws/notifications?token={issue_token(user)}")
    assert await ghost.connect() == (True, None)
    user.is_active = False
    await user.asave()
    assert await ghost.receive_output() == {"type": "websocket.close", "code": 4401, "reason": ""}
    assert counted(user) == (1, 1)  # the client has CLOSE_TIMEOUT to answer

    await realtime_clock.advance(CLOSE_TIMEOUT)
    assert counted(user) == (0, 0)
    assert await ghost.receive_nothing(timeout=0.05)
    await ghost.disconnect()  # too late: the connection ended already


async def test_a_client_that_answers_the_close_ends_with_its_own_code(user: Any, realtime_clock: ManualClock) -> None:
    before = Samples()
    ws = WebsocketCommunicator(application, f"/ws/notifications?token={issue_token(user)}")
    assert await ws.connect() == (True, None)
    user.is_active = False
    await user.asave()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4401, "reason": ""}
    await ws.disconnect(code=4401)
    assert counted(user) == (0, 0)
    await realtime_clock.advance(CLOSE_TIMEOUT)  # the timer was let go: nothing more happens
    assert before.added("realtime_closes_total", {"endpoint": "/ws/notifications", "code": "4401", "by": "server"}) == 1


# --- A send that waits for a client that reads nothing (uvicorn, hypercorn, granian) ----------------------


def stalling_after(sends: int, application: Any) -> Any:
    """`application` behind a server whose `send` waits for ever after `sends` frames (the client stopped reading)."""

    async def served(scope: Any, receive: Any, send: Any) -> None:
        sent = 0

        async def waits_for_the_client(message: Any) -> None:
            nonlocal sent
            if message["type"] == "websocket.send":
                sent += 1
                if sent > sends:
                    await asyncio.Event().wait()
            await send(message)

        await application(scope, receive, waits_for_the_client)

    return served


async def test_a_connection_whose_send_waits_a_heartbeat_for_its_client_is_given_up(
    post: Post, user: Any, other_user: Any, realtime_clock: ManualClock
) -> None:
    before = Samples()
    stuck = WebsocketCommunicator(
        stalling_after(1, application), f"/ws/live-comments/{post.pk}?token={issue_token(user)}"
    )
    assert await stuck.connect() == (True, None)
    await receive_presence_state(stuck, f"comments:{post.pk}", user)  # the one frame that goes through
    writer = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={issue_token(other_user)}")
    assert await writer.connect() == (True, None)
    await receive_presence_state(writer, f"comments:{post.pk}", other_user)
    await writer.send_json_to({"type": "new_comment", "body": "for a client that reads nothing", "client_id": "c1"})
    assert (await writer.receive_json_from())["type"] == "comment_created"
    assert (await writer.receive_json_from())["type"] == "comment"
    await writer.disconnect()
    assert counted(user) == (1, 1)  # its send of the comment waits

    await realtime_clock.advance(INTERVAL + TIMEOUT)
    assert counted(user) == (1, 1)  # a heartbeat's patience, not more: not yet
    await realtime_clock.advance(TIMEOUT)
    await stuck.wait(timeout=5)  # given up: it leaves its groups (on Redis, a round trip) and ends
    assert counted(user) == (0, 0)
    assert before.added("realtime_fell_behind_total", {"cause": "stalled_send"}) == 1
    assert before.added("realtime_connections", COMMENTS_ENDPOINT) == 0
