"""Posts and comments in the admin: changelists, search, filters, moderation actions and their live push."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from comments.models import Comment, Post
from comments.services import comment_create
from project.asgi import application
from realtime.auth.tokens import issue_token
from tests.support.presence import receive_presence_state

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/comments/comment/"


@pytest.fixture
def staff_client(django_user_model: Any) -> Client:
    moderator = django_user_model.objects.create_superuser(username="mod", email="mod@example.com", password=None)
    client = Client()
    client.force_login(moderator)
    return client


def comment(post: Post, author: Any, body: str) -> Comment:
    return comment_create(post_id=post.pk, author=author, body=body, client_id=None)[0]


def listed(response: Any) -> list[str]:
    assert response.status_code == 200
    return [c.body for c in response.context["cl"].result_list]


def test_the_changelist_shows_excerpt_author_post_and_state(staff_client: Client, post: Post, user: Any) -> None:
    comment(post, user, "x" * 100)
    response = staff_client.get(CHANGELIST)
    assert listed(response) == ["x" * 100]
    html = response.content.decode()
    assert "x" * 79 + "…" in html
    assert "x" * 80 not in html
    assert ">alice<" in html
    assert ">A post<" in html


@pytest.mark.parametrize(
    ("query", "expected"), [("needle", ["a needle"]), ("bob", ["by bob"]), ("Other", ["other post"])]
)
def test_the_changelist_searches_body_author_and_post_title(
    staff_client: Client, post: Post, user: Any, other_user: Any, query: str, expected: list[str]
) -> None:
    other_post = Post.objects.create(title="Other")
    comment(post, user, "a needle")
    comment(post, other_user, "by bob")
    comment(other_post, user, "other post")
    assert listed(staff_client.get(CHANGELIST, {"q": query})) == expected


def test_the_changelist_filters_hidden_comments(staff_client: Client, post: Post, user: Any) -> None:
    comment(post, user, "visible")
    Comment.objects.filter(pk=comment(post, user, "hidden").pk).update(is_hidden=True)
    assert listed(staff_client.get(CHANGELIST, {"is_hidden__exact": "1"})) == ["hidden"]
    assert listed(staff_client.get(CHANGELIST, {"is_hidden__exact": "0"})) == ["visible"]


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [CHANGELIST, "/admin/comments/post/"], ids=["comments", "posts"])
def test_changelists_take_the_same_queries_for_1_or_20_rows(
    staff_client: Client, post: Post, django_user_model: Any, url: str
) -> None:
    comment(post, django_user_model.objects.create_user(username="first"), "first")
    queries_for(staff_client, url)  # warm caches (content types, session)
    with_one = queries_for(staff_client, url)
    for number in range(19):
        author = django_user_model.objects.create_user(username=f"user{number}")
        comment(Post.objects.create(title=f"post {number}"), author, f"body {number}")
    assert queries_for(staff_client, url) == with_one


def test_posts_show_their_comment_count(staff_client: Client, post: Post, user: Any) -> None:
    comment(post, user, "one")
    comment(post, user, "two")
    response = staff_client.get("/admin/comments/post/")
    assert [(p.title, p.comment_count) for p in response.context["cl"].result_list] == [("A post", 2)]


def test_comments_cannot_be_added_in_the_admin(staff_client: Client) -> None:
    assert staff_client.get("/admin/comments/comment/add/").status_code == 403


async def watch(post: Post, user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/live-comments/{post.pk}?token={issue_token(user)}")
    assert await communicator.connect() == (True, None)
    await receive_presence_state(communicator, f"comments:{post.pk}", user)
    return communicator


async def act(client: Client, action: str, comments: list[Comment]) -> Any:
    return await sync_to_async(client.post)(
        CHANGELIST, {"action": action, "_selected_action": [c.pk for c in comments]}
    )


async def test_the_hide_action_hides_and_pushes_live(staff_client: Client, post: Post, user: Any) -> None:
    first = await sync_to_async(comment)(post, user, "keep")
    second = await sync_to_async(comment)(post, user, "hide me")
    watcher = await watch(post, user)
    response = await act(staff_client, "hide_comments", [second])
    assert response.status_code == 302
    assert await watcher.receive_json_from() == {"type": "comment_hidden", "comment_id": second.pk}
    assert [(c.pk, c.is_hidden) async for c in Comment.objects.order_by("id")] == [(first.pk, False), (second.pk, True)]
    assert await watcher.receive_nothing()
    await watcher.disconnect()


async def test_the_unhide_action_shows_and_pushes_live(staff_client: Client, post: Post, user: Any) -> None:
    hidden = await sync_to_async(comment)(post, user, "back again")
    await Comment.objects.filter(pk=hidden.pk).aupdate(is_hidden=True)
    watcher = await watch(post, user)
    await act(staff_client, "unhide_comments", [hidden])
    frame = await watcher.receive_json_from()
    assert (frame["type"], frame["comment"]["id"], frame["comment"]["body"]) == (
        "comment_unhidden",
        hidden.pk,
        "back again",
    )
    assert not (await Comment.objects.aget(pk=hidden.pk)).is_hidden
    await watcher.disconnect()


async def test_the_delete_action_deletes_and_pushes_live(staff_client: Client, post: Post, user: Any) -> None:
    doomed = await sync_to_async(comment)(post, user, "delete me")
    watcher = await watch(post, user)
    response = await sync_to_async(staff_client.post)(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert await watcher.receive_json_from() == {"type": "comment_deleted", "comment_id": doomed.pk}
    assert await Comment.objects.acount() == 0
    await watcher.disconnect()


async def test_deleting_from_the_change_form_pushes_live(staff_client: Client, post: Post, user: Any) -> None:
    doomed = await sync_to_async(comment)(post, user, "delete me")
    watcher = await watch(post, user)
    await sync_to_async(staff_client.post)(f"{CHANGELIST}{doomed.pk}/delete/", {"post": "yes"})
    assert await watcher.receive_json_from() == {"type": "comment_deleted", "comment_id": doomed.pk}
    await watcher.disconnect()
