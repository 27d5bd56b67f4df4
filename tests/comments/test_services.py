"""comments.services under real concurrency: threads with their own database connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from comments.models import Comment, Post
from comments.services import comment_create

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released together; each closes its own connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_retries_racing_in_threads_create_one_comment(post: Post, user: Any) -> None:
    results = run_at_once(4, lambda _: comment_create(post_id=post.pk, author=user, body="same", client_id="once"))
    assert len({comment.pk for comment, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert Comment.objects.count() == 1


def test_concurrent_writers_number_a_posts_comments_without_gaps_in_commit_order(post: Post, user: Any) -> None:
    def write_five(writer: int) -> None:
        for number in range(5):
            comment_create(post_id=post.pk, author=user, body=f"{writer}-{number}", client_id=None)

    run_at_once(6, write_five)
    by_id = list(Comment.objects.filter(post=post).order_by("id").values_list("seq", flat=True))
    assert by_id == list(range(1, 31))
    post.refresh_from_db()
    assert post.last_comment_seq == 30
