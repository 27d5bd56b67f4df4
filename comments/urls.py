"""The comments app's HTTP routes, under `realtime.urls` (PROTOCOL.md, History over HTTP)."""

from __future__ import annotations

from django.urls import path

from comments.topics import COMMENTS_TOPIC
from realtime.feeds.history import history_view

urlpatterns = [
    path(
        "history/comments/<str:post_id>", history_view(COMMENTS_TOPIC, key_argument="post_id"), name="comments-history"
    ),
]
