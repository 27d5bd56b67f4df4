"""Frames of `/ws/live-comments/<post_id>` (PROTOCOL.md, the live-comments row)."""

from __future__ import annotations

from typing import Literal, TypedDict

from comments.models import Comment


class CommentData(TypedDict):
    id: int
    post_id: int
    author: str
    body: str
    created_at: str


class CommentFrame(TypedDict):
    """Sent to every watcher of the post (the author included) once a comment is committed."""

    type: Literal["comment"]
    comment: CommentData


class CommentCreatedFrame(TypedDict):
    """Sent to the author once the comment is committed: the acknowledgement."""

    type: Literal["comment_created"]
    comment_id: int
    client_id: str | None


class CommentHiddenFrame(TypedDict):
    type: Literal["comment_hidden"]
    comment_id: int


class CommentUnhiddenFrame(TypedDict):
    type: Literal["comment_unhidden"]
    comment: CommentData


class CommentDeletedFrame(TypedDict):
    type: Literal["comment_deleted"]
    comment_id: int


def comment_data(comment: Comment) -> CommentData:
    return {
        "id": comment.pk,
        "post_id": comment.post_id,
        "author": comment.author.get_username(),
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
    }


def comment_frame(comment: Comment) -> CommentFrame:
    return {"type": "comment", "comment": comment_data(comment)}


def comment_created_frame(comment: Comment) -> CommentCreatedFrame:
    return {"type": "comment_created", "comment_id": comment.pk, "client_id": comment.client_id}


def comment_hidden_frame(comment_id: int) -> CommentHiddenFrame:
    return {"type": "comment_hidden", "comment_id": comment_id}


def comment_unhidden_frame(comment: CommentData) -> CommentUnhiddenFrame:
    return {"type": "comment_unhidden", "comment": comment}


def comment_deleted_frame(comment_id: int) -> CommentDeletedFrame:
    return {"type": "comment_deleted", "comment_id": comment_id}
