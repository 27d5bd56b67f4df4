"""
The property tests of tests/test_hostile_input.py over a real daphne: the same
frames and the same model, through autobahn's framing and daphne's ASGI bridge.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from websockets.asyncio.client import connect

from comments.models import Comment, Post
from tests.support import hostile
from tests.support.conversation import OverTheWire, check_conversation
from tests.support.hostile import CommentsModel, Frame, comment_frame_lists, frame_lists
from tests.support.live import LiveServer

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

WIRE_PROPERTIES = settings(
    max_examples=hostile.examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

PING = Frame("text", '{"type": "ping"}')


async def converse(
    url: str, frames: list[Frame], answers: Any, probe: Frame, comments: Any = None, *, greeting: Any = None
) -> None:
    """`greeting`: what the endpoint sends on its own once accepted (a post's presence_state)."""
    async with connect(url, max_size=None) as ws:
        if greeting is not None:
            assert json.loads(await ws.recv()) == greeting
        await check_conversation(OverTheWire(ws), frames, answers, probe, comments)


@WIRE_PROPERTIES
@given(frames=frame_lists)
async def test_echo_over_the_wire(daphne_server: LiveServer, frames: list[Frame]) -> None:
    await converse(f"{daphne_server.ws_url}/ws/echo", frames, hostile.echo_answers, Frame("text", "probe"))


@WIRE_PROPERTIES
@given(frames=frame_lists)
async def test_json_over_the_wire(daphne_server: LiveServer, frames: list[Frame]) -> None:
    await converse(f"{daphne_server.ws_url}/ws/json", frames, hostile.json_answers, Frame("text", "[0]"))


@WIRE_PROPERTIES
@given(frames=frame_lists)
async def test_notifications_over_the_wire(daphne_server: LiveServer, token: str, frames: list[Frame]) -> None:
    def answers(frame: Frame) -> list[Any]:
        return hostile.token_answers(frame, writes_comments=False)

    await converse(f"{daphne_server.ws_url}/ws/notifications?token={token}", frames, answers, PING)


@WIRE_PROPERTIES
@given(frames=comment_frame_lists)
async def test_live_comments_over_the_wire(
    daphne_server: LiveServer, token: str, user: Any, frames: list[Frame]
) -> None:
    def answers(frame: Frame) -> list[Any]:
        return hostile.token_answers(frame, writes_comments=True)

    post = await Post.objects.acreate(title="A post")
    model = CommentsModel()
    greeting = hostile.presence_state(f"comments:{post.pk}", {"id": user.pk, "username": user.username})
    url = f"{daphne_server.ws_url}/ws/live-comments/{post.pk}?token={token}"
    await converse(url, frames, answers, PING, model, greeting=greeting)
    stored = {c.pk: (c.body, c.author_id) async for c in Comment.objects.filter(post=post)}
    assert stored == {pk: (body, user.pk) for pk, body in model.bodies.items()}


def test_the_server_logged_no_exception(daphne_server: LiveServer) -> None:
    assert "Exception inside application" not in daphne_server.log()
    assert "Traceback" not in daphne_server.log()
