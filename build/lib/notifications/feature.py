"""What the notifications app tells the realtime library about itself (realtime/registry.py)."""

from __future__ import annotations

from realtime.registry import Feature

NOTIFICATIONS = Feature(
    name="notifications",
    websocket_urlpatterns="notifications.routing.websocket_urlpatterns",
)
