"""Reads of the comments app: a post's visible comments, for replay and gap filling (realtime/feeds/sequenced.py)."""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from comments.frames import comment_frame
from comments.models import Comment, Post
from realtime.feeds.marks import marks
from realtime.feeds.sequenced import Entry


def comment_high_water(*, post_id: int) -> int | None:
    """The post's last comment number; None when there is no such post."""
    # Raw SQL on purpose: read at every handshake, and the ORM spends three times
    # the round trip itself compiling this one-row lookup (bench/RESULTS.md).
    table = connection.ops.quote_name(Post._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_comment_seq FROM {table} WHERE id = %s", [post_id])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def comments_after_id(*, post_id: int, since_id: int, upto_seq: int, limit: int) -> list[Entry]:
    comments = _visible(post_id).filter(id__gt=since_id, seq__lte=upto_seq)
    return _entries(comments.order_by("id")[:limit])


def comments_newest_ids(*, post_id: int, since_id: int, upto_seq: int, limit: int) -> list[int]:
    newest = _visible(post_id).filter(id__gt=since_id, seq__lte=upto_seq).order_by("-id")
    return list(newest.values_list("id", flat=True)[:limit])


def comments_in_seq_range(*, post_id: int, after_seq: int, upto_seq: int, limit: int) -> list[Entry]:
    comments = _visible(post_id).filter(seq__gt=after_seq, seq__lte=upto_seq)
    return _entries(comments.order_by("seq")[:limit])


def _visible(post_id: int) -> QuerySet[Comment]:
    return Comment.objects.filter(post_id=post_id, is_hidden=False).select_related("author")


def _entries(comments: QuerySet[Comment]) -> list[Entry]:
    return [Entry(id=c.pk, seq=c.seq, frame=dict(comment_frame(c))) for c in comments]


class CommentFeeds:
    """Posts' comment feeds, for the feed checks (realtime/feeds/checks.py)."""

    def high_waters(self, keys: Collection[Hashable]) -> dict[Any, int]:
        return marks(Post, "pk", "last_comment_seq", keys)


COMMENT_FEEDS = CommentFeeds()
