"""
Posts and comments in the admin, as a moderator wants them. Hiding, unhiding
and deleting comments go through comments.services, so watchers of the post
see them live.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from comments.models import Comment, Post
from comments.services import comments_delete, comments_hide, comments_unhide

EXCERPT_LENGTH = 80


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "comment_count", "created_at"]
    search_fields = ["title"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        posts: QuerySet[Post] = super().get_queryset(request).annotate(comment_count=Count("comments"))
        return posts

    @admin.display(description="comments", ordering="comment_count")
    def comment_count(self, post: Any) -> int:
        return int(post.comment_count)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "excerpt", "author", "post", "is_hidden", "created_at"]
    list_display_links = ["id", "excerpt"]
    list_select_related = ["author", "post"]
    list_filter = ["is_hidden", "created_at", "post"]
    search_fields = ["body", "author__username", "post__title"]
    date_hierarchy = "created_at"
    readonly_fields = ["post", "author", "body", "client_id", "seq", "created_at", "is_hidden"]
    fields = ["post", "author", "body", "is_hidden", "client_id", "seq", "created_at"]
    actions = ["hide_comments", "unhide_comments"]

    @admin.display(description="comment")
    def excerpt(self, comment: Comment) -> str:
        body = comment.body
        return body if len(body) <= EXCERPT_LENGTH else body[: EXCERPT_LENGTH - 1] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Comments are written over the WebSocket, where they are numbered and broadcast.
        return False

    @admin.action(description="Hide the selected comments (live)", permissions=["change"])
    def hide_comments(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = comments_hide(comments=queryset)
        self.message_user(request, f"Hid {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Show the selected hidden comments again (live)", permissions=["change"])
    def unhide_comments(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        count = comments_unhide(comments=queryset)
        self.message_user(request, f"Showed {count} comment(s) again.", messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        comments_delete(comments=Comment.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        comments_delete(comments=queryset)
