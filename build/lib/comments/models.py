from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

CLIENT_ID_MAX_LENGTH = 64


class Post(models.Model):
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The last `seq` given to a comment of this post. A counter, not max(seq):
    # a number is never given twice, even after comments are deleted.
    last_comment_seq = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    """
    A comment on a post. `seq` numbers a post's comments 1, 2, 3... in commit
    order (realtime/feeds/sequenced.py); `client_id` makes a retried `new_comment` idempotent.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField()
    client_id = models.CharField(max_length=CLIENT_ID_MAX_LENGTH, null=True, blank=True, editable=False)
    seq = models.PositiveBigIntegerField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    is_hidden = models.BooleanField("hidden", default=False, help_text="Hidden comments are not shown or replayed.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "seq"], name="comment_post_seq_unique"),
            models.UniqueConstraint(
                fields=["post", "author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="comment_post_author_client_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["post", "id"], name="comment_post_id")]

    def __str__(self) -> str:
        return f"Comment {self.pk} on post {self.post_id}"
