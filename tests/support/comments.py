"""Posts with many comments, made in one statement (a replay or a history page longer than every buffer)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from comments.models import Comment, Post


def numbered_comments(post: Post, author: Any, count: int, body: str) -> None:
    """
    `count` comments on `post` by `author`, their `seq` 1 to `count` and their bodies "<seq> <body>",
    inserted by the database in one INSERT ... SELECT (no model made for each), and the post's
    `last_comment_seq` moved to the last, as comment_create leaves them.
    """
    quote = connection.ops.quote_name
    column = {field.name: field.column for field in Comment._meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in ("post", "author", "body", "seq", "created_at", "is_hidden"))
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < %s) "
            f"INSERT INTO {quote(Comment._meta.db_table)} ({columns}) "
            "SELECT %s, %s, CAST(n AS TEXT) || %s, n, %s, %s FROM numbers",
            [count, post.pk, author.pk, f" {body}", created_at, False],
        )
    Post.objects.filter(pk=post.pk).update(last_comment_seq=count)
