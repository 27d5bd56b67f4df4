"""What the notifications app tells the realtime library about itself (realtime/registry.py)."""

from __future__ import annotations

from notifications.topics import NOTIFICATIONS_TOPIC
from realtime.registry import Feature

NOTIFICATIONS = Feature(
    name="notifications",
    websocket_urlpatterns="notifications.routing.websocket_urlpatterns",
    topics=[NOTIFICATIONS_TOPIC],
    urlpatterns="notifications.urls.urlpatterns",
)
