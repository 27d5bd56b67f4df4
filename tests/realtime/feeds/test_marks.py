"""The feed checks' read of many marks (realtime/feeds/marks.py): one query, an array on PostgreSQL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comments.models import Post
from notifications.models import NotificationSequence
from realtime.feeds.marks import marks

pytestmark = pytest.mark.django_db


def test_the_marks_of_posts_are_read_by_primary_key_and_missing_keys_are_left_out() -> None:
    posts = [Post.objects.create(title=f"post {n}", last_comment_seq=n * 10) for n in range(3)]
    keys = [post.pk for post in posts] + [max(post.pk for post in posts) + 1]
    with CaptureQueriesContext(connection) as queries:
        found = marks(Post, "pk", "last_comment_seq", keys)
    assert found == {posts[0].pk: 0, posts[1].pk: 10, posts[2].pk: 20}
    assert len(queries.captured_queries) == 1


def test_the_marks_of_users_notifications_are_read_by_their_foreign_key() -> None:
    alice, bob = User.objects.create_user("alice"), User.objects.create_user("bob")
    NotificationSequence.objects.create(user=alice, last_seq=7)
    assert marks(NotificationSequence, "user_id", "last_seq", [alice.pk, bob.pk]) == {alice.pk: 7}


def test_no_keys_read_nothing() -> None:
    assert marks(Post, "pk", "last_comment_seq", []) == {}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only: set DATABASE_URL (as .ci/run does)")
def test_on_postgresql_the_keys_go_as_one_array_parameter() -> None:
    post = Post.objects.create(title="one", last_comment_seq=3)
    with CaptureQueriesContext(connection) as queries:
        assert marks(Post, "pk", "last_comment_seq", [post.pk, post.pk + 1]) == {post.pk: 3}
    (query,) = queries.captured_queries
    assert " = ANY(" in query["sql"]
    assert " IN (" not in query["sql"]
