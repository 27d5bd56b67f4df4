from __future__ import annotations

from django.conf import settings
from django.db import models


class NaiveComment(models.Model):
    """The seed's Comment: post, author, body."""

    post = models.ForeignKey("comments.Post", on_delete=models.CASCADE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
