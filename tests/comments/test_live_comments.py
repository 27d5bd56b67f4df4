"""`/ws/live-comments/<post_id>`: writes, acks, broadcast, idempotent retries, validation, replay, moderation."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from comments.feeds import PostComments
from comments.frames import comment_data
from comments.models import Comment, Post
from comments.services import comment_create, comments_delete, comments_hide, comments_unhide
from project.asgi import application
from realtime.auth.tokens import issue_token
from realtime.feeds import sequenced as feed
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)


def path_for(post: Post | int, query: str = "") -> str:
    post_id = post if isinstance(post, int) else post.pk
    return f"/ws/live-comments/{post_id}{query}"


async def watch(post: Post | int, token: str, query: str = "") -> WebsocketCommunicator:
    separator = "&" if query else ""
    communicator = WebsocketCommunicator(application, path_for(post, f"?token={token}{separator}{query}"))
    assert await communicator.connect() == (True, None)
    await receive_presence_state(communicator, f"comments:{post if isinstance(post, int) else post.pk}")
    return communicator


async def comment_frames(communicator: WebsocketCommunicator, count: int) -> list[str]:
    frames = [await communicator.receive_json_from() for _ in range(count)]
    assert {frame["type"] for frame in frames} == {"comment"}
    return [frame["comment"]["body"] for frame in frames]


def replay_complete(last_id: int, *, truncated: bool = False) -> dict[str, Any]:
    return {"type": "replay_complete", "last_id": last_id, "truncated": truncated}


create = database_sync_to_async(comment_create)
hide = database_sync_to_async(comments_hide)
unhide = database_sync_to_async(comments_unhide)
delete = database_sync_to_async(comments_delete)


async def write(post: Post, author: Any, *bodies: str) -> list[Comment]:
    return [(await create(post_id=post.pk, author=author, body=body, client_id=None))[0] for body in bodies]


async def rows(post: Post) -> list[tuple[str, str | None, str]]:
    return [
        (c.body, c.client_id, c.author.username)
        async for c in Comment.objects.filter(post=post).select_related("author").order_by("id")
    ]


# --- Connecting -------------------------------------------------------------------


async def test_a_post_that_does_not_exist_is_refused_before_accept(token: str) -> None:
    communicator = WebsocketCommunicator(application, path_for(424242, f"?token={token}"))
    assert await communicator.connect() == (False, 4404)


async def test_a_connection_without_a_token_is_refused_with_1008(post: Post) -> None:
    assert await WebsocketCommunicator(application, path_for(post)).connect() == (False, 1008)


async def test_ping_is_answered_and_unknown_types_list_new_comment(post: Post, token: str) -> None:
    communicator = await watch(post, token)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.send_json_to({"type": "comment"})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "unknown_type",
        "message": "Unknown message type 'comment'; this endpoint accepts: ping, pong, refresh, new_comment, typing.",
    }
    await communicator.disconnect()


# --- Writing ----------------------------------------------------------------------


async def test_a_new_comment_is_stored_acked_then_broadcast(post: Post, user: Any, token: str) -> None:
    communicator = await watch(post, token)
    await communicator.send_json_to({"type": "new_comment", "body": "  First! ✓ ", "client_id": "c-1"})
    ack = await communicator.receive_json_from()
    comment = await Comment.objects.select_related("author").aget()
    assert ack == {"type": "comment_created", "comment_id": comment.pk, "client_id": "c-1"}
    assert await communicator.receive_json_from() == {
        "type": "comment",
        "comment": {
            "id": comment.pk,
            "post_id": post.pk,
            "author": "alice",
            "body": "First! ✓",
            "created_at": comment.created_at.isoformat(),
        },
    }
    assert (comment.body, comment.client_id, comment.author_id, comment.seq) == ("First! ✓", "c-1", user.pk, 1)
    await communicator.disconnect()


async def test_a_comment_without_client_id_is_acked_with_null(post: Post, token: str) -> None:
    communicator = await watch(post, token)
    await communicator.send_json_to({"type": "new_comment", "body": "hi"})
    ack = await communicator.receive_json_from()
    assert ack == {"type": "comment_created", "comment_id": (await Comment.objects.aget()).pk, "client_id": None}
    await communicator.disconnect()


async def test_every_watcher_of_the_post_and_no_one_else_gets_the_comment(
    post: Post, user: Any, other_user: Any, token: str
) -> None:
    elsewhere = await Post.objects.acreate(title="Another post")
    author = await watch(post, token)
    watcher = await watch(post, issue_token(other_user))
    outsider = await watch(elsewhere, issue_token(other_user))
    await author.send_json_to({"type": "new_comment", "body": "hello watchers"})
    assert (await author.receive_json_from())["type"] == "comment_created"
    assert await comment_frames(author, 1) == ["hello watchers"]
    assert await comment_frames(watcher, 1) == ["hello watchers"]
    assert await outsider.receive_nothing()
    for communicator in (author, watcher, outsider):
        await communicator.disconnect()


async def test_a_retry_with_the_same_client_id_creates_nothing_new(post: Post, other_user: Any, token: str) -> None:
    author = await watch(post, token)
    watcher = await watch(post, issue_token(other_user))
    message = {"type": "new_comment", "body": "once", "client_id": "retry-me"}
    await author.send_json_to(message)
    first_ack = await author.receive_json_from()
    assert first_ack["type"] == "comment_created"
    assert await comment_frames(author, 1) == ["once"]
    await author.send_json_to({**message, "body": "once (edited on retry)"})
    assert await author.receive_json_from() == first_ack
    assert await author.receive_nothing(timeout=0.3)
    assert await rows(post) == [("once", "retry-me", "alice")]
    assert await comment_frames(watcher, 1) == ["once"]
    assert await watcher.receive_nothing()
    await author.disconnect()
    await watcher.disconnect()


async def test_the_same_client_id_from_another_author_or_post_is_a_new_comment(
    post: Post, user: Any, other_user: Any
) -> None:
    elsewhere = await Post.objects.acreate(title="Another post")
    first, created_first = await create(post_id=post.pk, author=user, body="a", client_id="same")
    second, created_second = await create(post_id=post.pk, author=other_user, body="b", client_id="same")
    third, created_third = await create(post_id=elsewhere.pk, author=user, body="c", client_id="same")
    assert (created_first, created_second, created_third) == (True, True, True)
    assert len({first.pk, second.pk, third.pk}) == 3


async def test_concurrent_retries_from_two_connections_create_one_comment(post: Post, token: str) -> None:
    first, second = await watch(post, token), await watch(post, token)
    message = {"type": "new_comment", "body": "racing", "client_id": "race"}
    await asyncio.gather(first.send_json_to(message), second.send_json_to(message))
    acks = []
    for communicator in (first, second):
        frames = [await communicator.receive_json_from() for _ in range(2)]
        acks += [frame for frame in frames if frame["type"] == "comment_created"]
    comment = await Comment.objects.aget()
    assert acks == [{"type": "comment_created", "comment_id": comment.pk, "client_id": "race"}] * 2
    await first.disconnect()
    await second.disconnect()


def test_a_retry_is_caught_by_the_constraint_and_takes_no_number(post: Post, user: Any) -> None:
    first, created_first = comment_create(post_id=post.pk, author=user, body="first", client_id="x")
    again, created_again = comment_create(post_id=post.pk, author=user, body="again", client_id="x")
    post.refresh_from_db()
    assert (created_first, again.pk, created_again) == (True, first.pk, False)
    assert (Comment.objects.count(), post.last_comment_seq) == (1, 1)


VALIDATION_CASES = {
    "missing-body": ({"type": "new_comment"}, "invalid_body", '"body" must be a non-blank string.'),
    "empty-body": ({"type": "new_comment", "body": ""}, "invalid_body", '"body" must be a non-blank string.'),
    "blank-body": ({"type": "new_comment", "body": " \n\t "}, "invalid_body", '"body" must be a non-blank string.'),
    "number-body": ({"type": "new_comment", "body": 42}, "invalid_body", '"body" must be a non-blank string.'),
    "list-body": ({"type": "new_comment", "body": ["a"]}, "invalid_body", '"body" must be a non-blank string.'),
    "too-long": (
        {"type": "new_comment", "body": "x" * 5001},
        "invalid_body",
        '"body" may be at most 5000 characters; this one has 5001.',
    ),
    "nul": (
        {"type": "new_comment", "body": "a\x00b"},
        "invalid_body",
        '"body" must be valid Unicode text without NUL characters.',
    ),
    "lone-surrogate": (
        {"type": "new_comment", "body": "a\ud800b"},
        "invalid_body",
        '"body" must be valid Unicode text without NUL characters.',
    ),
    "client-id-too-long": (
        {"type": "new_comment", "body": "ok", "client_id": "c" * 65},
        "invalid_client_id",
        '"client_id", when given, must be a non-empty string of at most 64 characters.',
    ),
    "client-id-number": (
        {"type": "new_comment", "body": "ok", "client_id": 7},
        "invalid_client_id",
        '"client_id", when given, must be a non-empty string of at most 64 characters.',
    ),
    # An empty client_id would be one idempotency key shared by every later comment of the author.
    "client-id-empty": (
        {"type": "new_comment", "body": "ok", "client_id": ""},
        "invalid_client_id",
        '"client_id", when given, must be a non-empty string of at most 64 characters.',
    ),
}


@pytest.mark.parametrize(("message", "code", "text"), VALIDATION_CASES.values(), ids=VALIDATION_CASES.keys())
async def test_an_invalid_new_comment_gets_an_error_and_writes_and_broadcasts_nothing(
    post: Post, other_user: Any, token: str, message: dict[str, Any], code: str, text: str
) -> None:
    author = await watch(post, token)
    watcher = await watch(post, issue_token(other_user))
    await author.send_json_to(message)
    assert await author.receive_json_from() == {"type": "error", "code": code, "message": text}
    assert await rows(post) == []
    assert await watcher.receive_nothing()
    await author.send_json_to({"type": "new_comment", "body": "valid after all"})
    assert (await author.receive_json_from())["type"] == "comment_created"
    await author.disconnect()
    await watcher.disconnect()


async def test_a_body_of_exactly_the_maximum_length_is_accepted(post: Post, token: str, realtime_settings: Any) -> None:
    realtime_settings.COMMENT_MAX_LENGTH = 10
    communicator = await watch(post, token)
    await communicator.send_json_to({"type": "new_comment", "body": "x" * 11})
    assert (await communicator.receive_json_from())[
        "message"
    ] == '"body" may be at most 10 characters; this one has 11.'
    await communicator.send_json_to({"type": "new_comment", "body": "x" * 10, "client_id": "c" * 64})
    assert (await communicator.receive_json_from())["type"] == "comment_created"
    assert await rows(post) == [("x" * 10, "c" * 64, "alice")]
    await communicator.disconnect()


async def test_a_database_failure_gets_an_error_and_no_ack(post: Post, token: str) -> None:
    communicator = await watch(post, token)
    failure = OperationalError("server closed the connection")
    with mock.patch("comments.services._insert_numbered", side_effect=failure):
        await communicator.send_json_to({"type": "new_comment", "body": "lost?", "client_id": "retry-later"})
        assert await communicator.receive_json_from() == {
            "type": "error",
            "code": "unavailable",
            "message": "The comment could not be saved; send it again with the same client_id.",
        }
    assert await rows(post) == []
    await communicator.send_json_to({"type": "new_comment", "body": "lost?", "client_id": "retry-later"})
    assert (await communicator.receive_json_from())["type"] == "comment_created"
    assert await rows(post) == [("lost?", "retry-later", "alice")]
    await communicator.disconnect()


async def test_a_comment_on_a_post_deleted_meanwhile_gets_not_found(post: Post, token: str) -> None:
    communicator = await watch(post, token)
    await Post.objects.filter(pk=post.pk).adelete()
    await communicator.send_json_to({"type": "new_comment", "body": "too late"})
    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "not_found",
        "message": "This post no longer exists; the comment was not saved.",
    }
    assert await Comment.objects.acount() == 0
    await communicator.disconnect()


# --- Replay -------------------------------------------------------------------------


async def test_since_replays_newer_visible_comments_in_order_then_live(post: Post, user: Any, token: str) -> None:
    first, _, third = await write(post, user, "one", "two", "three")
    communicator = await watch(post, token, f"since={first.pk}")
    assert await comment_frames(communicator, 2) == ["two", "three"]
    assert await communicator.receive_json_from() == replay_complete(third.pk)
    await write(post, user, "four")
    assert await comment_frames(communicator, 1) == ["four"]
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_replay_frames_equal_live_frames(post: Post, user: Any, token: str) -> None:
    (comment,) = await write(post, user, "same either way")
    communicator = await watch(post, token, "since=0")
    comment = await Comment.objects.select_related("author").aget(pk=comment.pk)
    assert await communicator.receive_json_from() == {"type": "comment", "comment": comment_data(comment)}
    await communicator.disconnect()


async def test_a_replay_of_nothing_is_marked_complete_at_since(post: Post, user: Any, token: str) -> None:
    (only,) = await write(post, user, "seen already")
    communicator = await watch(post, token, f"since={only.pk}")
    assert await communicator.receive_json_from() == replay_complete(only.pk)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_replay_of_exactly_the_limit_is_sent(post: Post, user: Any, token: str, realtime_settings: Any) -> None:
    realtime_settings.REPLAY_LIMIT = 2
    _, last = await write(post, user, "one", "two")
    communicator = await watch(post, token, "since=0")
    assert await comment_frames(communicator, 2) == ["one", "two"]
    assert await communicator.receive_json_from() == replay_complete(last.pk)
    await communicator.disconnect()


async def test_a_replay_past_the_limit_sends_none_and_names_the_newest_id_then_live(
    post: Post, user: Any, token: str, realtime_settings: Any
) -> None:
    realtime_settings.REPLAY_LIMIT = 2
    *_, newest = await write(post, user, "one", "two", "three")
    communicator = await watch(post, token, "since=0")
    assert await communicator.receive_json_from() == replay_complete(newest.pk, truncated=True)
    await write(post, user, "live")
    assert await comment_frames(communicator, 1) == ["live"]
    await communicator.disconnect()


async def test_hidden_comments_are_never_replayed(post: Post, user: Any, token: str) -> None:
    _, two, three = await write(post, user, "one", "two", "three")
    await hide(comments=Comment.objects.filter(pk=two.pk))
    communicator = await watch(post, token, "since=0")
    assert await comment_frames(communicator, 2) == ["one", "three"]
    assert await communicator.receive_json_from() == replay_complete(three.pk)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_replay_covers_only_this_posts_comments(post: Post, user: Any, token: str) -> None:
    elsewhere = await Post.objects.acreate(title="Another post")
    await write(elsewhere, user, "elsewhere")
    (here,) = await write(post, user, "here")
    communicator = await watch(post, token, "since=0")
    assert await comment_frames(communicator, 1) == ["here"]
    assert await communicator.receive_json_from() == replay_complete(here.pk)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_replay_pages_through_many_comments(
    post: Post, user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "PAGE_SIZE", 3)
    *_, last = await write(post, user, *"abcdefg")
    communicator = await watch(post, token, "since=0")
    assert await comment_frames(communicator, 7) == list("abcdefg")
    assert await communicator.receive_json_from() == replay_complete(last.pk)
    await communicator.disconnect()


async def test_a_comment_written_while_replay_runs_arrives_once_after_the_replay(
    post: Post, user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, two = await write(post, user, "one", "two")
    original = PostComments.after_id

    async def replay_racing_a_write(self: PostComments, since_id: int, upto_seq: int, limit: int) -> Any:
        entries = await original(self, since_id, upto_seq, limit)
        await write(post, user, "during replay")
        return entries

    monkeypatch.setattr(PostComments, "after_id", replay_racing_a_write)
    communicator = await watch(post, token, "since=0")
    assert await comment_frames(communicator, 2) == ["one", "two"]
    assert await communicator.receive_json_from() == replay_complete(two.pk)
    assert await comment_frames(communicator, 1) == ["during replay"]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_lost_live_event_is_filled_in_from_the_database(post: Post, user: Any, token: str) -> None:
    communicator = await watch(post, token)
    with mock.patch("realtime.feeds.publish.publish"):
        await write(post, user, "lost on the way")
    await write(post, user, "next")
    assert await comment_frames(communicator, 2) == ["lost on the way", "next"]
    await communicator.disconnect()


async def test_a_comment_number_is_never_given_twice_even_after_a_delete(post: Post, user: Any) -> None:
    (first,) = await write(post, user, "first")
    await Comment.objects.filter(pk=first.pk).adelete()
    (second,) = await write(post, user, "second")
    assert (first.seq, second.seq) == (1, 2)


# --- Moderation ---------------------------------------------------------------------


async def test_hiding_unhiding_and_deleting_reach_watchers_live(post: Post, user: Any, token: str) -> None:
    (comment,) = await write(post, user, "moderate me")
    communicator = await watch(post, token)
    selected = Comment.objects.filter(pk=comment.pk)
    await hide(comments=selected)
    assert await communicator.receive_json_from() == {"type": "comment_hidden", "comment_id": comment.pk}
    await unhide(comments=selected)
    comment = await Comment.objects.select_related("author").aget(pk=comment.pk)
    assert await communicator.receive_json_from() == {"type": "comment_unhidden", "comment": comment_data(comment)}
    await delete(comments=selected)
    assert await communicator.receive_json_from() == {"type": "comment_deleted", "comment_id": comment.pk}
    assert await Comment.objects.acount() == 0
    await communicator.disconnect()


async def test_hiding_an_already_hidden_comment_pushes_nothing(post: Post, user: Any, token: str) -> None:
    (comment,) = await write(post, user, "hidden twice")
    selected = Comment.objects.filter(pk=comment.pk)
    assert await hide(comments=selected) == 1
    communicator = await watch(post, token)
    assert await hide(comments=selected) == 0
    assert await communicator.receive_nothing()
    await communicator.disconnect()
