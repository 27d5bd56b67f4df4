"""
Writes of the comments app: creating comments and moderating them.

Each write publishes to the post's watchers once its transaction commits, on
every server process. A comment is numbered under its post's row lock, so a
post's comments commit in `seq` order (realtime/feed.py).
"""

from __future__ import annotations

from typing import Literal, TypedDict

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from comments.frames import CommentFrame, comment_frame
from comments.models import Comment, Post
from realtime.publish import Publication, publish_on_commit


class CommentCreated(TypedDict):
    type: Literal["comment.created"]
    seq: int
    frame: CommentFrame


class CommentRemoved(TypedDict):
    type: Literal["comment.hidden", "comment.deleted"]
    comment_id: int


class CommentUnhidden(TypedDict):
    type: Literal["comment.unhidden"]
    frame: CommentFrame


def post_group(post_id: int) -> str:
    return f"comments.post.{post_id}"


def comment_create(*, post_id: int, author: AbstractBaseUser, body: str, client_id: str | None) -> tuple[Comment, bool]:
    """
    Create a comment, or find the one a retry with the same `client_id` (same
    author, same post) already created. Returns the comment and whether it is
    new. Raises `Post.DoesNotExist` if the post is gone.
    """
    try:
        return _create_once(post_id=post_id, author=author, body=body, client_id=client_id)
    except IntegrityError:
        # Two retries raced past the lookup below; the constraint kept one.
        existing = _retried(post_id=post_id, author=author, client_id=client_id)
        if existing is None:
            raise
        return existing, False


def _create_once(*, post_id: int, author: AbstractBaseUser, body: str, client_id: str | None) -> tuple[Comment, bool]:
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post_id)
        existing = _retried(post_id=post_id, author=author, client_id=client_id)
        if existing is not None:
            return existing, False
        post.last_comment_seq += 1
        post.save(update_fields=["last_comment_seq"])
        comment = Comment.objects.create(
            post=post, author=author, body=body, client_id=client_id, seq=post.last_comment_seq
        )
        publish_on_commit([created_publication(comment)])
    return comment, True


def _retried(*, post_id: int, author: AbstractBaseUser, client_id: str | None) -> Comment | None:
    if client_id is None:
        return None
    return Comment.objects.filter(post_id=post_id, author=author, client_id=client_id).select_related("author").first()


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
            event: CommentUnhidden = {"type": "comment.unhidden", "frame": comment_frame(comment)}
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
    event: CommentCreated = {"type": "comment.created", "seq": comment.seq, "frame": comment_frame(comment)}
    return post_group(comment.post_id), dict(event)


def removed_publication(event_type: Literal["comment.hidden", "comment.deleted"], pk: int, post_id: int) -> Publication:
    event: CommentRemoved = {"type": event_type, "comment_id": pk}
    return post_group(post_id), dict(event)
