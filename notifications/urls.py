"""The notifications app's HTTP routes, under `realtime.urls` (PROTOCOL.md, History over HTTP)."""

from __future__ import annotations

from django.urls import path

from notifications.topics import NOTIFICATIONS_TOPIC
from realtime.feeds.history import history_view

urlpatterns = [
    path("history/notifications", history_view(NOTIFICATIONS_TOPIC), name="notifications-history"),
]
