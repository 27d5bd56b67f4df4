from __future__ import annotations

from django.urls import re_path

from comments.consumers import LiveCommentsConsumer
from realtime.routing import token_endpoint

websocket_urlpatterns = [
    re_path(r"^ws/live-comments/(?P<post_id>[0-9]{1,18})/?$", token_endpoint(LiveCommentsConsumer)),
]
