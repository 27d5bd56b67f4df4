"""`GET /realtime/history/comments/<post_id>`: a post's visible comments over HTTP, for truncated replays."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments.frames import comment_frame
from comments.models import Comment, Post
from comments.services import comments_hide
from realtime.auth.tokens import issue_token
from realtime.feeds import history
from realtime.feeds.history import HISTORY_MAX_PAGE_SIZE

# The view reads through database_sync_to_async, which closes connections left in a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

REFUSED_BY_HOOK: list[str] = []


def refuse_bob(user: Any, topic: str) -> bool:
    """A permission hook for these tests: bob may follow nothing."""
    REFUSED_BY_HOOK.append(topic)
    return bool(user.get_username() != "bob")


def url(post: Post | int | str, query: str = "") -> str:
    post_id = post.pk if isinstance(post, Post) else post
    return f"/realtime/history/comments/{post_id}{query}"


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user)}"}


def comments_on(post: Post, user: Any, count: int) -> list[Comment]:
    now = timezone.now()
    made = Comment.objects.bulk_create(
        Comment(post=post, author=user, body=f"#{number}", seq=number, created_at=now) for number in range(1, count + 1)
    )
    Post.objects.filter(pk=post.pk).update(last_comment_seq=count)
    return made


def frames(comments: list[Comment]) -> list[dict[str, Any]]:
    return [dict(comment_frame(Comment.objects.select_related("author").get(pk=c.pk))) for c in comments]


def test_a_page_is_the_socket_frames_of_the_visible_comments_after_after(client: Client, post: Post, user: Any) -> None:
    one, two, three = comments_on(post, user, 3)
    comments_hide(comments=Comment.objects.filter(pk=two.pk))
    response = client.get(url(post, f"?after={one.pk - 1}"), headers=bearer(user))
    assert response.status_code == 200
    assert response.json() == {"items": frames([one, three]), "next_after": None}
    assert response["Cache-Control"] == "no-store"


def test_pages_follow_next_after_to_the_last_one(client: Client, post: Post, user: Any) -> None:
    made = comments_on(post, user, 5)
    pages: list[list[int]] = []
    after: int | None = 0
    while after is not None:
        page = client.get(url(post, f"?after={after}&limit=2"), headers=bearer(user)).json()
        pages.append([item["comment"]["id"] for item in page["items"]])
        after = page["next_after"]
    ids = [c.pk for c in made]
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]


def test_a_page_that_ends_exactly_at_the_newest_comment_is_the_last(client: Client, post: Post, user: Any) -> None:
    made = comments_on(post, user, 2)
    first = client.get(url(post, "?limit=2"), headers=bearer(user)).json()
    assert first["next_after"] is None
    assert [item["comment"]["id"] for item in first["items"]] == [c.pk for c in made]


def test_the_default_page_is_100_and_no_page_is_longer_than_500(client: Client, post: Post, user: Any) -> None:
    made = comments_on(post, user, HISTORY_MAX_PAGE_SIZE + 1)
    default = client.get(url(post), headers=bearer(user)).json()
    largest = client.get(url(post, "?limit=100000"), headers=bearer(user)).json()
    assert (len(default["items"]), default["next_after"]) == (100, made[99].pk)
    assert (len(largest["items"]), largest["next_after"]) == (500, made[499].pk)


def test_a_signed_in_session_reads_it_too(client: Client, post: Post, user: Any) -> None:
    (comment,) = comments_on(post, user, 1)
    client.force_login(user)
    assert client.get(url(post)).json() == {"items": frames([comment]), "next_after": None}


def test_without_a_session_or_a_token_it_is_401_json(client: Client, post: Post) -> None:
    response = client.get(url(post))
    assert (response.status_code, response.json()) == (
        401,
        {"error": "login_required", "message": "Sign in, or send Authorization: Bearer <token>."},
    )


def test_an_invalid_bearer_token_is_401_even_with_a_session(client: Client, post: Post, user: Any) -> None:
    client.force_login(user)
    response = client.get(url(post), headers={"Authorization": "Bearer not-a-jwt"})
    assert (response.status_code, response.json()) == (
        401,
        {"error": "login_required", "message": "The bearer token was refused: the token is invalid (DecodeError)."},
    )


@pytest.mark.parametrize("missing", [999_999, "abc", "1" * 19])
def test_a_post_that_does_not_exist_is_404_json(client: Client, user: Any, missing: Any) -> None:
    response = client.get(url(missing), headers=bearer(user))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_post_that_does_not_exist_is_named(client: Client, user: Any) -> None:
    response = client.get(url(999_999), headers=bearer(user))
    assert response.json() == {"error": "not_found", "message": "There is no comments:999999."}


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("?after=-1", {"error": "invalid_after", "message": '"after" must be a non-negative integer id.'}),
        ("?after=x", {"error": "invalid_after", "message": '"after" must be a non-negative integer id.'}),
        (
            "?after=9223372036854775808",
            {"error": "invalid_after", "message": '"after" must be a non-negative integer id.'},
        ),
        ("?limit=0", {"error": "invalid_limit", "message": '"limit" must be a whole number from 1 to 500.'}),
        ("?limit=2.5", {"error": "invalid_limit", "message": '"limit" must be a whole number from 1 to 500.'}),
    ],
)
def test_a_bad_after_or_limit_is_400_json(client: Client, post: Post, user: Any, query: str, answer: Any) -> None:
    response = client.get(url(post, query), headers=bearer(user))
    assert (response.status_code, response.json()) == (400, answer)


def test_the_permission_hook_decides_as_for_a_subscription(
    client: Client, post: Post, user: Any, other_user: Any, realtime_settings: Any
) -> None:
    REFUSED_BY_HOOK.clear()
    realtime_settings.TOPIC_PERMISSION = f"{__name__}.refuse_bob"
    refused = client.get(url(post), headers=bearer(other_user))
    allowed = client.get(url(post), headers=bearer(user))
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "forbidden", "message": f"This user may not follow comments:{post.pk}."},
    )
    assert allowed.status_code == 200
    assert [f"comments:{post.pk}", f"comments:{post.pk}"] == REFUSED_BY_HOOK


def test_only_get_is_answered(client: Client, post: Post, user: Any) -> None:
    assert client.post(url(post), headers=bearer(user)).status_code == 405


@pytest.mark.parametrize("signed_in", ["bearer", "session"])
def test_a_page_of_short_entries_costs_two_queries_at_most(
    client: Client, post: Post, user: Any, signed_in: str
) -> None:
    comments_on(post, user, 300)
    headers = bearer(user) if signed_in == "bearer" else {}
    if signed_in == "session":
        client.force_login(user)
    counts = []
    for limit in (1, 300):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(post, f"?limit={limit}"), headers=headers)
        assert len(response.json()["items"]) == limit
        counts.append(len(queries))
    # The user (and the session), the post's high-water mark, the page: FIRST_BATCH entries, then the rest.
    assert counts == ([3, 4] if signed_in == "bearer" else [4, 5])


def test_a_page_ends_before_its_json_passes_the_byte_bound(
    client: Client, post: Post, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "HISTORY_MAX_PAGE_BYTES", 1300)  # two items of about 600 bytes
    made = comments_on(post, user, 5)
    for comment in made:
        Comment.objects.filter(pk=comment.pk).update(body="x" * 400)
    first = client.get(url(post, "?limit=5"), headers=bearer(user))
    assert [item["comment"]["id"] for item in first.json()["items"]] == [made[0].pk, made[1].pk]
    assert first.json()["next_after"] == made[1].pk
    monkeypatch.setattr(history, "HISTORY_MAX_PAGE_BYTES", 10)
    alone = client.get(url(post, "?limit=5"), headers=bearer(user)).json()
    assert ([item["comment"]["id"] for item in alone["items"]], alone["next_after"]) == ([made[0].pk], made[0].pk)


def test_an_entry_longer_than_the_byte_bound_is_a_page_of_its_own(
    client: Client, post: Post, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "HISTORY_MAX_PAGE_BYTES", 100)
    made = comments_on(post, user, 3)
    Comment.objects.filter(pk=made[0].pk).update(body="x" * 400)
    pages: list[list[int]] = []
    after: int | None = 0
    while after is not None:
        page = client.get(url(post, f"?after={after}&limit=5"), headers=bearer(user)).json()
        pages.append([item["comment"]["id"] for item in page["items"]])
        after = page["next_after"]
    assert pages == [[c.pk] for c in made]
