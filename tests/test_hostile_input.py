"""
Property tests: arbitrary frames thrown at every endpoint, through the whole
ASGI stack (origin check, router, token middleware, consumer).

Invariant, for any frames: each gets exactly the answer PROTOCOL.md gives it
(its documented answer, or one error frame with a known code), never a close
(so never 1011), never a write that was not asked for, and the consumer then
answers the next valid message.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comments.models import Comment, Post
from notifications.models import Notification
from project.asgi import application
from tests.support import hostile
from tests.support.conversation import InProcess, check_conversation
from tests.support.hostile import CommentsModel, Frame, TopicsModel, comment_frame_lists, frame_lists

pytestmark = pytest.mark.django_db(transaction=True)

# The user and token fixtures are shared by the examples, which change neither.
PROPERTIES = settings(
    max_examples=hostile.examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

ECHO_PROBE = Frame("text", "probe")
JSON_PROBE = Frame("text", '{"probe": [1, "two"]}')
PING = Frame("text", '{"type": "ping"}')


async def converse(
    path: str, frames: list[Frame], answers: Any, probe: Frame, comments: Any = None, *, greeting: Any = None
) -> None:
    """`greeting`: what the endpoint sends on its own once accepted (a post's presence_state)."""
    communicator = WebsocketCommunicator(application, path)
    assert await communicator.connect() == (True, None)
    try:
        if greeting is not None:
            assert await communicator.receive_json_from() == greeting
        await check_conversation(InProcess(communicator), frames, answers, probe, comments)
    finally:
        await communicator.disconnect()


@PROPERTIES
@given(frames=frame_lists)
async def test_echo_answers_any_frames_and_keeps_echoing(frames: list[Frame]) -> None:
    await converse("/ws/echo", frames, hostile.echo_answers, ECHO_PROBE)


@PROPERTIES
@given(frames=frame_lists)
async def test_json_answers_any_frames_and_keeps_answering(frames: list[Frame]) -> None:
    await converse("/ws/json", frames, hostile.json_answers, JSON_PROBE)


@PROPERTIES
@given(frames=frame_lists)
async def test_notifications_answer_any_frames_and_write_nothing(token: str, frames: list[Frame]) -> None:
    def answers(frame: Frame) -> list[Any]:
        return hostile.token_answers(frame, writes_comments=False)

    await converse(f"/ws/notifications?token={token}", frames, answers, PING)
    assert await Notification.objects.acount() == 0


@settings(PROPERTIES, max_examples=hostile.examples(250))  # the richest message: more cases to cover
@given(frames=comment_frame_lists)
async def test_live_comments_answer_any_frames_and_write_only_what_was_acknowledged(
    token: str, user: Any, frames: list[Frame]
) -> None:
    def answers(frame: Frame) -> list[Any]:
        return hostile.token_answers(frame, writes_comments=True)

    post = await Post.objects.acreate(title="A post")  # each example on its own post, so examples are independent
    model = CommentsModel()
    greeting = hostile.presence_state(f"comments:{post.pk}", {"id": user.pk, "username": user.username})
    await converse(f"/ws/live-comments/{post.pk}?token={token}", frames, answers, PING, model, greeting=greeting)
    stored = {c.pk: (c.body, c.author_id) async for c in Comment.objects.filter(post=post)}
    assert stored == {pk: (body, user.pk) for pk, body in model.bodies.items()}


@settings(PROPERTIES, max_examples=hostile.examples(250))
@given(data=st.data())
async def test_ws_answers_any_frames_about_any_topics_and_writes_only_what_was_acknowledged(
    token: str, user: Any, data: st.DataObject
) -> None:
    post = await Post.objects.acreate(title="A post")  # each example on its own post
    model = TopicsModel(post_topic=f"comments:{post.pk}", user={"id": user.pk, "username": user.username})
    frames = data.draw(hostile.topic_frame_lists(model.post_topic))
    await converse(f"/ws/?token={token}", frames, model.answers, PING, model.comments)
    stored = {c.pk: (c.body, c.author_id) async for c in Comment.objects.filter(post=post)}
    assert stored == {pk: (body, user.pk) for pk, body in model.comments.bodies.items()}
