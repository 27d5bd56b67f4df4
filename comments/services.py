"""
Writes of the comments app: creating comments and moderating them.

Each write publishes to the post's watchers once its transaction commits, on
every server process. A comment is numbered under its post's row lock, so a
post's comments commit in `seq` order (realtime/feeds/sequenced.py).
"""

from __future__ import annotations

from typing import Literal, TypedDict

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from comments.frames import CommentFrame, comment_frame
from comments.models import Comment, Post
from realtime.feeds.publish import Publication, publish_on_commit
from realtime.topics.kinds import SEPARATOR

# The kind of topic a post's comments are (comments/topics.py).
TOPIC_KIND = "comments"


# Every event of a post's group names its topic (realtime/topics/kinds.py), for connections that follow many.


class CommentCreated(TypedDict):
    type: Literal["comment.created"]
    topic: str
    seq: int
    frame: CommentFrame


class CommentRemoved(TypedDict):
    type: Literal["comment.hidden", "comment.deleted"]
    topic: str
    comment_id: int


class CommentUnhidden(TypedDict):
    type: Literal["comment.unhidden"]
    topic: str
    frame: CommentFrame


def post_group(post_id: int) -> str:
    return f"comments.post.{post_id}"


def post_topic(post_id: int) -> str:
    """The topic of a post's comments (PROTOCOL.md, "One connection, many topics")."""
    return f"{TOPIC_KIND}{SEPARATOR}{post_id}"


def comment_create(*, post_id: int, author: AbstractBaseUser, body: str, client_id: str | None) -> tuple[Comment, bool]:
    """
    Create a comment, or find the one a retry with the same `client_id` (same
    author, same post) already created. Returns the comment and whether it is
    new. Raises `Post.DoesNotExist` if the post is gone.

    A retry's insert hits the unique constraint on (post, author, client_id):
    it changes nothing, its number included, and the first comment is returned.
    """
    try:
        comment = _insert_numbered(post_id=post_id, author=author, body=body, client_id=client_id)
    except IntegrityError:
        existing = _retried(post_id=post_id, author=author, client_id=client_id)
        if existing is None:
            raise
        return existing, False
    publish_on_commit([created_publication(comment)])
    return comment, True


def _insert_numbered(*, post_id: int, author: AbstractBaseUser, body: str, client_id: str | None) -> Comment:
    """
    Take the post's next comment number and insert the comment with it, atomically.
    Taking the number locks the post's row until the insert commits, so a post's
    comments commit in `seq` order (realtime/feeds/sequenced.py).
    """
    if connection.vendor == "postgresql":
        if connection.in_atomic_block:  # a savepoint, so that a duplicate leaves the caller's transaction usable
            with transaction.atomic():
                return _insert_numbered_in_one_statement(post_id, author, body, client_id)
        return _insert_numbered_in_one_statement(post_id, author, body, client_id)
    with transaction.atomic():
        seq = _next_comment_seq(post_id)
        comment = Comment.objects.create(post_id=post_id, author_id=author.pk, body=body, client_id=client_id, seq=seq)
    return _by(comment, author)


def _insert_numbered_in_one_statement(
    post_id: int, author: AbstractBaseUser, body: str, client_id: str | None
) -> Comment:
    """
    PostgreSQL: number and insert in one statement, one round trip instead of
    four (BEGIN, UPDATE, INSERT, COMMIT), as cheap as a plain insert
    (bench/RESULTS.md, "Where the time goes"). A single statement is atomic.
    """
    quote = connection.ops.quote_name
    post_table, comment_table = quote(Post._meta.db_table), quote(Comment._meta.db_table)
    column = {field.name: field.column for field in Comment._meta.concrete_fields}
    columns = ", ".join(
        quote(column[name]) for name in ("post", "author", "body", "client_id", "seq", "created_at", "is_hidden")
    )
    created_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH next AS (UPDATE {post_table} SET last_comment_seq = last_comment_seq + 1 WHERE id = %s "
            f"RETURNING last_comment_seq) INSERT INTO {comment_table} ({columns}) "
            f"SELECT %s, %s, %s, %s, next.last_comment_seq, %s, false FROM next RETURNING id, seq",
            [post_id, post_id, author.pk, body, client_id, created_at],
        )
        row = cursor.fetchone()
    if row is None:
        raise Post.DoesNotExist(f"Post {post_id} does not exist.")
    comment = Comment(
        id=row[0],
        post_id=post_id,
        author_id=author.pk,
        body=body,
        client_id=client_id,
        seq=row[1],
        created_at=created_at,
    )
    comment._state.adding = False
    comment._state.db = connection.alias
    return _by(comment, author)


def _by(comment: Comment, author: AbstractBaseUser) -> Comment:
    """`comment`, its `author` known without a query (any user model: the host's own)."""
    Comment.author.field.set_cached_value(comment, author)
    return comment


def _next_comment_seq(post_id: int) -> int:
    """Take the post's next comment number, in the caller's transaction (whose end unlocks the post's row)."""
    table = connection.ops.quote_name(Post._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_comment_seq = last_comment_seq + 1 WHERE id = %s RETURNING last_comment_seq",
            [post_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Post.DoesNotExist(f"Post {post_id} does not exist.")
    return int(row[0])


def _retried(*, post_id: int, author: AbstractBaseUser, client_id: str | None) -> Comment | None:
    if client_id is None:
        return None
    retried = Comment.objects.filter(post_id=post_id, author_id=author.pk, client_id=client_id)
    return retried.select_related("author").first()


def comments_hide(*, comments: QuerySet[Comment]) -> int:
    """Hide the visible ones among `comments`; watchers get `comment_hidden`. Returns how many."""
    with transaction.atomic():
        hidden = list(comments.select_for_update().filter(is_hidden=False).values_list("pk", "post_id"))
        Comment.objects.filter(pk__in=[pk for pk, _ in hidden]).update(is_hidden=True)
        publish_on_commit(removed_publication("comment.hidden", pk, post_id) for pk, post_id in hidden)
    return len(hidden)


def comments_unhide(*, comments: QuerySet[Comment]) -> int:
    """Show the hidden ones among `comments` again; watchers get `comment_unhidden`. Returns how many."""
    with transaction.atomic():
        shown = list(comments.select_for_update().filter(is_hidden=True).select_related("author"))
        Comment.objects.filter(pk__in=[comment.pk for comment in shown]).update(is_hidden=False)
        publications: list[Publication] = []
        for comment in shown:
            comment.is_hidden = False
            event: CommentUnhidden = {
                "type": "comment.unhidden",
                "topic": post_topic(comment.post_id),
                "frame": comment_frame(comment),
            }
            publications.append((post_group(comment.post_id), dict(event)))
        publish_on_commit(publications)
    return len(shown)


def comments_delete(*, comments: QuerySet[Comment]) -> int:
    """Delete `comments`; watchers get `comment_deleted`. Returns how many."""
    with transaction.atomic():
        doomed = list(comments.select_for_update().values_list("pk", "post_id"))
        Comment.objects.filter(pk__in=[pk for pk, _ in doomed]).delete()
        publish_on_commit(removed_publication("comment.deleted", pk, post_id) for pk, post_id in doomed)
    return len(doomed)


def created_publication(comment: Comment) -> Publication:
    event: CommentCreated = {
        "type": "comment.created",
        "topic": post_topic(comment.post_id),
        "seq": comment.seq,
        "frame": comment_frame(comment),
    }
    return post_group(comment.post_id), dict(event)


def removed_publication(event_type: Literal["comment.hidden", "comment.deleted"], pk: int, post_id: int) -> Publication:
    event: CommentRemoved = {"type": event_type, "topic": post_topic(post_id), "comment_id": pk}
    return post_group(post_id), dict(event)
