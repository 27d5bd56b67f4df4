from __future__ import annotations

from django.urls import re_path

from comments.consumers import LiveCommentsConsumer
from realtime.middleware import TokenAuthMiddleware

websocket_urlpatterns = [
    re_path(r"^ws/live-comments/(?P<post_id>[0-9]{1,18})/?$", TokenAuthMiddleware(LiveCommentsConsumer.as_asgi())),
]
