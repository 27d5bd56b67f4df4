from __future__ import annotations

from django.urls import re_path

from notifications.consumers import NotificationsConsumer
from realtime.routing import token_endpoint

websocket_urlpatterns = [
    re_path(r"^ws/notifications/?$", token_endpoint(NotificationsConsumer)),
]
